package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
)

// What the saga writes, each in one transaction: a new order with its
// saga, then each step's outcome with the saga's next state (and, at the
// last step, the order's status and event). The conditions the store
// writes under (the runner's lease, the step it expects) make a runner
// that lost its lease write nothing.

// start is how a new order's saga begins.
type start struct {
	Step     string
	Attempts int
	// Owner is the placing request holding the saga ("" for the worker,
	// after RetryIn).
	Owner   string
	RetryIn time.Duration
	// Done are outcomes already known at placement (the customer checked).
	Done        []outcome
	TraceParent string
}

// insert stores the order with its items, its saga and its order.placed
// event in one transaction; store.ErrDuplicateKey if a twin with the same
// idempotency key won.
func (s *Service) insert(ctx context.Context, o orders.Order, key, hash string, first start) error {
	hold := time.Duration(0)
	if first.Owner != "" {
		hold = s.cfg.Lease
	}
	return s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := store.InsertOrder(ctx, tx, o, key, hash); err != nil {
			return err
		}
		recs := make([]store.StepRecord, len(first.Done))
		for i, out := range first.Done {
			recs[i] = out.record()
		}
		err := store.InsertSaga(ctx, tx, store.NewSaga{OrderID: o.ID, Step: first.Step, Attempts: first.Attempts,
			Deadline: s.cfg.Deadline, Owner: first.Owner, HoldFor: hold, RunIn: first.RetryIn, TraceParent: first.TraceParent}, recs...)
		if err != nil {
			return err
		}
		return store.Publish(ctx, tx, orders.EventOrderPlaced, o.ID,
			orders.OrderPlaced{OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents})
	})
}

// record stores outs, the outcome of sg's step followed by those of the
// steps decided with it (each of the step the one before leads to), and
// moves the saga on, in one transaction, only while sg.Owner holds the
// saga at its step (store.ErrLeaseLost otherwise). Only the last outcome
// may wait for a retry or settle the order. The lease is kept for the
// next step, and freed when the step waits for a retry or the saga is
// done.
func (s *Service) record(ctx context.Context, sg saga, outs ...outcome) error {
	last := outs[len(outs)-1]
	to := store.SagaMove{Step: last.Next, RunIn: last.RetryIn, HoldFor: s.cfg.Lease}
	if last.retries() {
		// An attempt more at sg's step; a step reached through the ones
		// before has had its first.
		to.Attempts, to.HoldFor = 1, 0
		if len(outs) == 1 {
			to.Attempts = sg.Attempts + 1
		}
	}
	if last.Settle != "" {
		to.Step, to.HoldFor = stepDone, 0
	}
	paymentID, reason := sg.PaymentID, sg.FailureReason
	for _, out := range outs {
		if out.PaymentID != nil {
			paymentID, to.PaymentID = out.PaymentID, out.PaymentID
		}
		if out.Reason != nil {
			reason, to.FailureReason = out.Reason, out.Reason
		}
	}
	recs, rewrites := stepRecords(sg, outs)
	var err error
	if last.Settle == "" && !rewrites {
		// The move with its steps is one statement: no transaction.
		err = s.store.MoveSaga(ctx, sg.OrderID, sg.Owner, sg.Step, to, recs...)
	} else {
		err = s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if !rewrites {
				if err := store.MoveSaga(ctx, tx, sg.OrderID, sg.Owner, sg.Step, to, recs...); err != nil {
					return err
				}
			} else {
				if err := store.MoveSaga(ctx, tx, sg.OrderID, sg.Owner, sg.Step, to); err != nil {
					return err
				}
				if err := appendSteps(ctx, tx, sg, outs); err != nil {
					return err
				}
			}
			if last.Settle == "" {
				return nil
			}
			return settleOrder(ctx, tx, sg.OrderID, last.Settle, last.At, paymentID, reason)
		})
	}
	if errors.Is(err, store.ErrLeaseLost) {
		return store.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("record saga step: %w", err)
	}
	return nil
}

// stepRecords is outs as history entries, and whether one of them is a
// retry that rewrites the entry an earlier attempt left (appendSteps).
func stepRecords(sg saga, outs []outcome) (recs []store.StepRecord, rewrites bool) {
	attempts := sg.Attempts
	for _, out := range outs {
		if out.retries() && attempts > 0 {
			return nil, true
		}
		recs = append(recs, out.record())
		attempts = 0 // the next outcome is of the step this one led to
	}
	return recs, false
}

// appendSteps adds outs to the saga's history: in one statement, but for
// a retry that overwrites the entry an earlier attempt left. The retries
// of one step in a row share one entry, so a long outage does not grow the
// history without bound.
func appendSteps(ctx context.Context, tx bun.Tx, sg saga, outs []outcome) error {
	var recs []store.StepRecord
	attempts := sg.Attempts
	for _, out := range outs {
		if out.retries() && attempts > 0 {
			if err := store.AppendSteps(ctx, tx, sg.OrderID, recs...); err != nil {
				return err
			}
			recs = nil
			if err := store.AppendStep(ctx, tx, sg.OrderID, out.record(), true); err != nil {
				return err
			}
		} else {
			recs = append(recs, out.record())
		}
		attempts = 0 // the next outcome is of the step this one led to
	}
	return store.AppendSteps(ctx, tx, sg.OrderID, recs...)
}

// settleOrder moves the order to status in tx, with its event: pending to
// confirmed (order.confirmed), pending or confirmed to cancelled
// (order.cancelled). An order already there, or cancelled, stays as it is.
func settleOrder(ctx context.Context, tx bun.Tx, orderID, status string, at time.Time, paymentID, reason *string) error {
	cur, moved, err := store.SettleOrder(ctx, tx, orderID, status, at, paymentID, reason, status, orders.StatusCancelled)
	if err != nil || !moved {
		return err
	}
	if status == orders.StatusConfirmed {
		return store.Publish(ctx, tx, orders.EventOrderConfirmed, orderID, orders.OrderConfirmed{
			OrderID: orderID, CustomerID: cur.CustomerID, TotalCents: cur.TotalCents, PaymentID: deref(paymentID)})
	}
	return store.Publish(ctx, tx, orders.EventOrderCancelled, orderID, orders.OrderCancelled{
		OrderID: orderID, CustomerID: cur.CustomerID, TotalCents: cur.TotalCents, PreviousStatus: cur.Status, Reason: deref(reason)})
}
