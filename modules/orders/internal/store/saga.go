package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
)

// StepDone is the saga step of a settled order: nothing left to run.
const StepDone = "done"

// ErrLeaseLost means another runner holds the saga now: the caller stops.
var ErrLeaseLost = errors.New("saga lease lost")

// Saga is an order's saga as a runner holds it.
type Saga struct {
	OrderID       string    `bun:"order_id"`
	CustomerID    string    `bun:"customer_id"`
	TotalCents    int64     `bun:"total_cents"`
	Step          string    `bun:"step"`
	Attempts      int       `bun:"attempts"`
	DeadlineAt    time.Time `bun:"deadline_at"`
	PaymentID     *string   `bun:"payment_id"`
	FailureReason *string   `bun:"failure_reason"`
	Owner         string    `bun:"lease_owner"`
	// TraceParent is the W3C traceparent of the request that started this
	// run of the saga ("" if untraced).
	TraceParent string `bun:"trace_parent"`
}

// NewSaga is the saga stored with a new order, held by its placing request.
type NewSaga struct {
	Step     string
	Deadline time.Duration
	// Owner holds the new saga for Lease; with no owner, the saga waits
	// RetryIn for the worker.
	Owner   string
	Lease   time.Duration
	RetryIn time.Duration
	// Attempts already made at the first step.
	Attempts int
	// Done are outcomes already known at placement (the customer checked).
	Done []Outcome
	// TraceParent is the placing request's W3C traceparent.
	TraceParent string
}

// Outcome is one step's result, recorded before the next step starts.
type Outcome struct {
	Step    string
	Outcome string
	Detail  string
	// Next is the step to run next; Step again to retry it after RetryIn.
	Next      string
	RetryIn   time.Duration
	PaymentID *string
	Reason    *string
	// Settle moves the order to this status in the same transaction, with
	// its event (the saga's last step).
	Settle string
}

const sagaColumns = `s.order_id, o.customer_id, o.total_cents, s.step, s.attempts, s.deadline_at,
	s.payment_id, s.failure_reason, s.lease_owner, s.trace_parent`

// Claim takes the lease of up to limit due sagas that no one holds.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]Saga, error) {
	var out []Saga
	err := s.db.NewRaw(`WITH claimed AS (
			UPDATE sagas SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond'
			WHERE order_id IN (SELECT order_id FROM sagas
				WHERE step <> 'done' AND next_attempt_at <= now() AND lease_until < now()
				ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING *)
		SELECT `+sagaColumns+` FROM claimed s JOIN orders o ON o.id = s.order_id`,
		owner, lease.Milliseconds(), limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim sagas: %w", err)
	}
	return out, nil
}

// ClaimOne takes the lease of one order's unfinished saga if no one holds
// it, due or not (a client's retry is a good moment to try again).
func (s *Store) ClaimOne(ctx context.Context, orderID, owner string, lease time.Duration) (Saga, bool, error) {
	var out []Saga
	err := s.db.NewRaw(`WITH claimed AS (
			UPDATE sagas SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond'
			WHERE order_id = ? AND step <> 'done' AND lease_until < now()
			RETURNING *)
		SELECT `+sagaColumns+` FROM claimed s JOIN orders o ON o.id = s.order_id`,
		owner, lease.Milliseconds(), orderID).Scan(ctx, &out)
	if err != nil {
		return Saga{}, false, fmt.Errorf("claim saga: %w", err)
	}
	if len(out) == 0 {
		return Saga{}, false, nil
	}
	return out[0], true, nil
}

// SagaStep returns an order's next saga step (StepDone when settled, or
// for an order that never had a saga).
func (s *Store) SagaStep(ctx context.Context, orderID string) (string, error) {
	var step string
	err := s.db.NewRaw("SELECT step FROM sagas WHERE order_id = ?", orderID).Scan(ctx, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return StepDone, nil
	}
	if err != nil {
		return "", fmt.Errorf("read saga: %w", err)
	}
	return step, nil
}

// Record stores a step's outcome and moves the saga on, in one transaction,
// only while owner holds the saga at that step (ErrLeaseLost otherwise).
// The lease is renewed for the next step, or released when the step waits
// for a retry or the saga is done.
func (s *Store) Record(ctx context.Context, sg Saga, lease time.Duration, out Outcome) error {
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		attempts, holdFor := 0, lease
		if out.Next == sg.Step {
			attempts, holdFor = sg.Attempts+1, 0
		}
		next := out.Next
		if out.Settle != "" {
			next, holdFor = StepDone, 0
		}
		res, err := tx.NewRaw(`UPDATE sagas SET step = ?, attempts = ?,
				next_attempt_at = now() + ? * interval '1 millisecond',
				lease_until = CASE WHEN ? > 0 THEN now() + ? * interval '1 millisecond' ELSE now() END,
				payment_id = coalesce(?, payment_id), failure_reason = coalesce(?, failure_reason), updated_at = now()
			WHERE order_id = ? AND lease_owner = ? AND step = ?`,
			next, attempts, out.RetryIn.Milliseconds(), holdFor.Milliseconds(), holdFor.Milliseconds(),
			out.PaymentID, out.Reason, sg.OrderID, sg.Owner, sg.Step).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, ErrLeaseLost)
		}
		if err := appendStep(ctx, tx, sg.OrderID, out); err != nil {
			return err
		}
		if out.Settle == "" {
			return nil
		}
		paymentID := sg.PaymentID
		if out.PaymentID != nil {
			paymentID = out.PaymentID
		}
		reason := sg.FailureReason
		if out.Reason != nil {
			reason = out.Reason
		}
		_, err = transition(ctx, tx, sg.OrderID, out.Settle, paymentID, reason)
		return err
	})
	if errors.Is(err, ErrLeaseLost) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("record saga step: %w", err)
	}
	return nil
}

// Release gives up the lease of a saga held by sg.Owner at its step, so
// that another runner claims it at once: a worker that halts leaves nothing
// held by a process on its way out.
func (s *Store) Release(ctx context.Context, sg Saga) error {
	_, err := s.db.NewRaw(`UPDATE sagas SET lease_until = now(), updated_at = now()
		WHERE order_id = ? AND lease_owner = ? AND step = ? AND lease_until > now()`, sg.OrderID, sg.Owner, sg.Step).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release saga: %w", err)
	}
	return nil
}

// StartCancel records a customer's cancellation of a confirmed order: its
// saga restarts at the refund, held by owner. False if a cancellation is
// already under way or the order is not confirmed.
// traceParent is the cancelling request's, for a run the worker resumes.
func (s *Store) StartCancel(ctx context.Context, orderID, owner string, lease time.Duration, traceParent string) (bool, error) {
	started := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`INSERT INTO sagas AS s (order_id, step, deadline_at, lease_owner, lease_until, payment_id, failure_reason, trace_parent)
			SELECT id, 'refund', now(), ?, now() + ? * interval '1 millisecond', payment_id, ?, ?
			FROM orders WHERE id = ? AND status = 'confirmed'
			ON CONFLICT (order_id) DO UPDATE SET step = 'refund', attempts = 0, next_attempt_at = now(),
				lease_owner = excluded.lease_owner, lease_until = excluded.lease_until,
				failure_reason = excluded.failure_reason, trace_parent = excluded.trace_parent, updated_at = now()
			WHERE s.step = 'done'`,
			owner, lease.Milliseconds(), orders.ReasonCancelledByUser, traceParent, orderID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		started = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("start cancellation: %w", err)
	}
	return started, nil
}

// appendStep adds an outcome to the order's history. Retries of one step in
// a row share one entry, updated in place, so a long outage does not grow
// the history without bound.
func appendStep(ctx context.Context, tx bun.IDB, orderID string, out Outcome) error {
	if out.Outcome == orders.OutcomeRetrying {
		res, err := tx.NewRaw(`UPDATE saga_steps SET detail = ?, at = now()
			WHERE order_id = ? AND step = ? AND outcome = 'retrying'
			AND seq = (SELECT max(seq) FROM saga_steps WHERE order_id = ?)`,
			out.Detail, orderID, out.Step, orderID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
	}
	_, err := tx.NewRaw(`INSERT INTO saga_steps (order_id, seq, step, outcome, detail)
		SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM saga_steps WHERE order_id = ?`,
		orderID, out.Step, out.Outcome, out.Detail, orderID).Exec(ctx)
	return err
}

// History returns the steps of one of the customer's orders.
func (s *Store) History(ctx context.Context, customerID, orderID string) (orders.OrderHistory, error) {
	o, err := s.Get(ctx, customerID, orderID)
	if err != nil {
		return orders.OrderHistory{}, err
	}
	h := orders.OrderHistory{OrderID: o.ID, Status: o.Status, Steps: []orders.HistoryStep{}}
	step, err := s.SagaStep(ctx, orderID)
	if err != nil {
		return orders.OrderHistory{}, err
	}
	if step != StepDone {
		h.NextStep = &step
	}
	err = s.db.NewRaw("SELECT seq, step, outcome, detail, at FROM saga_steps WHERE order_id = ? ORDER BY seq", orderID).
		Scan(ctx, &h.Steps)
	if err != nil {
		return orders.OrderHistory{}, fmt.Errorf("read saga history: %w", err)
	}
	for i := range h.Steps {
		h.Steps[i].At = h.Steps[i].At.UTC()
	}
	return h, nil
}
