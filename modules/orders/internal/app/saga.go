package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/problem"
)

// An order's saga runs check_customer, reserve_stock, charge and confirm;
// when a step fails for good or the deadline passes before the charge
// succeeds, it voids the charge, releases the stock and cancels the order
// instead (stock.go has the stock's steps). Every call it makes
// carries a key derived from the order, so a step run twice (after a crash,
// or by a runner whose lease ran out) has the effect of one.

// chargeKey is the idempotency key of the order's charge, and of its void.
func chargeKey(orderID string) string { return "order:" + orderID + ":charge" }

// refundKey is the idempotency key of a customer's cancellation refund.
func refundKey(orderID string) string { return "order:" + orderID + ":refund" }

// recordTimeout bounds the write of a step's outcome, which happens even
// when the caller's context has ended: a step that ran must be recorded.
const recordTimeout = 5 * time.Second

// rescheduled is run's answer when a step waits for a retry; it wraps the
// step's error.
type rescheduled struct{ err error }

func (r *rescheduled) Error() string { return "saga step rescheduled: " + r.err.Error() }
func (r *rescheduled) Unwrap() error { return r.err }

// processName names this process in lease owners, for people reading them.
var processName = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}()

// newOwner is a lease owner unique to one claim.
func newOwner() string { return processName + "/" + uuid.NewString()[:8] }

// errHalted is run's answer when its worker halts between two steps: the
// saga's lease is released, for another runner to go on.
var errHalted = errors.New("saga runner halted")

// run drives a saga its caller holds, one step after another, until the
// order is settled, a step waits for a retry (*rescheduled), the lease is
// lost (store.ErrLeaseLost), or halt is closed before the next step
// (errHalted; nil halt never is). It returns the saga as far as it got.
func (s *Service) run(ctx context.Context, sg saga, halt <-chan struct{}) (saga, error) {
	for sg.Step != stepDone {
		if closed(halt) {
			relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			err := s.store.Release(relCtx, sg.OrderID, sg.Owner, sg.Step)
			cancel()
			return sg, errors.Join(errHalted, err)
		}
		spanCtx, span := s.startStep(ctx, sg)
		stepCtx, cancel := context.WithTimeout(spanCtx, s.cfg.Lease/2)
		out, cause := s.step(stepCtx, sg)
		cancel()
		outs, spans := []outcome{out}, []trace.Span{span}
		// A step that calls no one and cannot fail (cancel) is decided at
		// once and recorded with the step that led to it, in one
		// transaction: a durable commit less, and no moment between the
		// two for a crash to leave. The record is in the last step's span,
		// as the event it writes (order.cancelled) is that step's. Confirm
		// commits the order's stock in inventory, so it is a step of its
		// own.
		if next := after(sg, out); !out.retries() && local(next.Step) {
			var nextSpan trace.Span
			spanCtx, nextSpan = s.startStep(ctx, next)
			nextOut, _ := s.step(spanCtx, next)
			outs, spans = append(outs, nextOut), append(spans, nextSpan)
		}
		recCtx, cancel := context.WithTimeout(context.WithoutCancel(spanCtx), recordTimeout)
		err := s.record(recCtx, sg, outs...)
		cancel()
		for i, span := range spans {
			endStep(span, outs[i], err)
		}
		if err != nil {
			return sg, err
		}
		for _, out := range outs {
			s.observe.step(ctx, sg, out, cause)
			if out.retries() {
				return sg, &rescheduled{err: cause}
			}
			sg, cause = after(sg, out), nil
		}
	}
	return sg, nil
}

// step runs the saga's current step; the error is why it must be retried.
func (s *Service) step(ctx context.Context, sg saga) (outcome, error) {
	switch sg.Step {
	case orders.StepCheckCustomer:
		return s.checkCustomer(ctx, sg)
	case orders.StepReserveStock:
		return s.reserveStock(ctx, sg)
	case orders.StepCharge:
		return s.charge(ctx, sg)
	case orders.StepConfirm:
		return s.confirm(ctx, sg)
	case orders.StepVoidCharge:
		return s.voidCharge(ctx, sg)
	case orders.StepRefund:
		return s.refund(ctx, sg)
	case orders.StepReleaseStock:
		return s.releaseStock(ctx, sg)
	case orders.StepCancel:
		return outcome{Step: orders.StepCancel, Outcome: orders.OutcomeSucceeded,
			Detail: deref(sg.FailureReason), Settle: orders.StatusCancelled, At: now()}, nil
	}
	return s.retry(sg, fmt.Errorf("unknown saga step %q", sg.Step))
}

func (s *Service) checkCustomer(ctx context.Context, sg saga) (outcome, error) {
	if time.Now().After(sg.DeadlineAt) {
		return failed(sg.Step, "deadline passed", orders.StepCancel, orders.ReasonDeadlineExceeded), nil
	}
	_, err := s.customers.Get(ctx, users.GetRequest{ID: sg.CustomerID})
	switch {
	case err == nil:
		return succeeded(sg.Step, "", orders.StepReserveStock), nil
	case errors.Is(err, users.ErrNotFound):
		return failed(sg.Step, "no such customer", orders.StepCancel, orders.ReasonCustomerNotFound), nil
	}
	return s.retry(sg, err)
}

// charge takes the order's total. Once it may have been attempted, every
// way back goes through void_charge: a refusal now does not prove that an
// earlier attempt still in flight will not land later.
func (s *Service) charge(ctx context.Context, sg saga) (outcome, error) {
	if time.Now().After(sg.DeadlineAt) {
		return failed(sg.Step, "deadline passed", orders.StepVoidCharge, orders.ReasonDeadlineExceeded), nil
	}
	p, err := s.wallets.Charge(ctx, payments.ChargeRequest{
		UserID: sg.CustomerID, OrderID: sg.OrderID, AmountCents: sg.TotalCents, IdempotencyKey: chargeKey(sg.OrderID),
	})
	switch {
	case err == nil:
		out := succeeded(sg.Step, "payment "+p.ID, orders.StepConfirm)
		out.PaymentID = &p.ID
		return out, nil
	case errors.Is(err, payments.ErrInsufficientFunds):
		return failed(sg.Step, "insufficient funds", orders.StepVoidCharge, orders.ReasonInsufficientFunds), nil
	case errors.Is(err, payments.ErrChargeVoided):
		return failed(sg.Step, "charge voided", orders.StepVoidCharge, orders.ReasonDeadlineExceeded), nil
	}
	return s.retry(sg, err)
}

// voidCharge is a compensation: it has no deadline and is retried until
// payments answers.
func (s *Service) voidCharge(ctx context.Context, sg saga) (outcome, error) {
	v, err := s.wallets.VoidCharge(ctx, payments.VoidChargeRequest{UserID: sg.CustomerID, ChargeKey: chargeKey(sg.OrderID)})
	if err != nil {
		return s.retry(sg, err)
	}
	detail := "no charge was made; none will be"
	if v.Payment != nil {
		detail = "payment " + v.Payment.ID + " refunded"
	}
	return succeeded(sg.Step, detail, orders.StepReleaseStock), nil
}

// refund gives a confirmed order's money back when its customer cancels.
func (s *Service) refund(ctx context.Context, sg saga) (outcome, error) {
	if sg.PaymentID == nil {
		return succeeded(sg.Step, "nothing to refund", orders.StepReleaseStock), nil
	}
	p, err := s.wallets.Refund(ctx, payments.RefundRequest{
		UserID: sg.CustomerID, PaymentID: *sg.PaymentID, IdempotencyKey: refundKey(sg.OrderID),
	})
	if err != nil {
		return s.retry(sg, err)
	}
	return succeeded(sg.Step, "payment "+p.ID+" refunded", orders.StepReleaseStock), nil
}

// retry keeps the saga at its step, to run again after an exponential
// backoff with jitter. The detail is public: a problem's title, never the
// cause's text, which may name internal addresses.
func (s *Service) retry(sg saga, err error) (outcome, error) {
	detail := "no answer"
	var p *problem.Error
	switch {
	case errors.As(err, &p):
		detail = p.Title
	case errors.Is(err, context.DeadlineExceeded):
		detail = "timed out"
	}
	return outcome{Step: sg.Step, Outcome: orders.OutcomeRetrying, Detail: fmt.Sprintf("%s (attempt %d)", detail, sg.Attempts+1),
		Next: sg.Step, RetryIn: backoff(sg.Attempts, s.cfg.BackoffMax)}, err
}

// backoff is 200ms doubled per attempt up to max, the upper half jittered.
func backoff(attempts int, max time.Duration) time.Duration {
	d := max
	if attempts < 16 {
		d = min(200*time.Millisecond<<attempts, max)
	}
	return d/2 + rand.N(d/2+1)
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
