package app

import (
	"context"
	"fmt"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
	"mitosis/platform/ids"
)

// CancelOrder refunds and cancels a confirmed order. The intent is stored
// first (the saga restarts at its refund step), so a crash or an
// unavailable payments only delays it: the worker finishes it. The answer
// is the order as it stands after at most SAGA_INLINE_TIMEOUT: cancelled,
// or still confirmed while its refund waits. The refund carries a key
// derived from the order, so it happens once.
func (s *Service) CancelOrder(ctx context.Context, in orders.CancelOrderRequest) (orders.Order, error) {
	o, err := s.GetOrder(ctx, orders.GetOrderRequest(in))
	if err != nil {
		return orders.Order{}, err
	}
	switch o.Status {
	case orders.StatusCancelled:
		return o, nil
	case orders.StatusPending:
		return orders.Order{}, orders.ErrNotCancellable
	}
	// The saga restarts at the refund, held by this request, only from a
	// confirmed order's finished saga: a cancellation already under way is
	// left to its runner.
	reason := orders.ReasonCancelledByUser
	restart := store.SagaRestart{Step: orders.StepRefund, Owner: newOwner(), HoldFor: s.cfg.Lease,
		FailureReason: reason, TraceParent: traceParentOf(ctx)}
	started, err := s.store.RestartSaga(ctx, o.ID, orders.StatusConfirmed, restart)
	if err != nil {
		return orders.Order{}, fmt.Errorf("start cancellation: %w", err)
	}
	inline, cancel := context.WithTimeout(ctx, s.cfg.InlineTimeout)
	defer cancel()
	if started {
		_, err = s.run(inline, saga{OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents,
			Step: restart.Step, PaymentID: o.PaymentID, FailureReason: &reason, Owner: restart.Owner}, nil)
	} else {
		err = s.settle(inline, o.ID)
	}
	if err != nil && !settledLater(err) {
		return orders.Order{}, fmt.Errorf("cancel order %s: %w", o.ID, err)
	}
	// Cancelled, or still confirmed with its refund waiting for payments:
	// the cancellation is recorded and the saga finishes it by itself.
	return s.store.Get(ctx, o.CustomerID, o.ID)
}

// GetOrderHistory returns the steps of the order's saga.
func (s *Service) GetOrderHistory(ctx context.Context, in orders.GetOrderRequest) (orders.OrderHistory, error) {
	if !ids.Valid(in.OrderID) || !ids.Valid(in.CustomerID) {
		return orders.OrderHistory{}, orders.ErrNotFound
	}
	o, err := s.store.Get(ctx, in.CustomerID, in.OrderID)
	if err != nil {
		return orders.OrderHistory{}, err
	}
	h := orders.OrderHistory{OrderID: o.ID, Status: o.Status}
	step, err := s.store.SagaStep(ctx, o.ID)
	if err != nil {
		return orders.OrderHistory{}, err
	}
	if step != stepDone {
		h.NextStep = &step
	}
	if h.Steps, err = s.store.Steps(ctx, o.ID); err != nil {
		return orders.OrderHistory{}, err
	}
	return h, nil
}
