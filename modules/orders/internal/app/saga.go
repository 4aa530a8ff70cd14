package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/problem"
)

// An order's saga runs check_customer, charge and confirm; when a step
// fails for good or the deadline passes before the charge succeeds, it
// voids the charge and cancels the order instead. Every call it makes
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
// (errHalted; nil halt never is).
func (s *Service) run(ctx context.Context, sg store.Saga, halt <-chan struct{}) error {
	for sg.Step != store.StepDone {
		if closed(halt) {
			relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			err := s.store.Release(relCtx, sg)
			cancel()
			return errors.Join(errHalted, err)
		}
		spanCtx, span := s.startStep(ctx, sg)
		stepCtx, cancel := context.WithTimeout(spanCtx, s.cfg.Lease/2)
		out, cause := s.step(stepCtx, sg)
		cancel()
		recCtx, cancel := context.WithTimeout(context.WithoutCancel(spanCtx), recordTimeout)
		err := s.store.Record(recCtx, sg, s.cfg.Lease, out)
		cancel()
		endStep(span, out, err)
		if err != nil {
			return err
		}
		s.observe.step(ctx, sg, out, cause)
		if out.Next == sg.Step {
			return &rescheduled{err: cause}
		}
		sg.Step, sg.Attempts = out.Next, 0
		if out.Settle != "" {
			sg.Step = store.StepDone
		}
		if out.PaymentID != nil {
			sg.PaymentID = out.PaymentID
		}
		if out.Reason != nil {
			sg.FailureReason = out.Reason
		}
	}
	return nil
}

// step runs the saga's current step; the error is why it must be retried.
func (s *Service) step(ctx context.Context, sg store.Saga) (store.Outcome, error) {
	switch sg.Step {
	case orders.StepCheckCustomer:
		return s.checkCustomer(ctx, sg)
	case orders.StepCharge:
		return s.charge(ctx, sg)
	case orders.StepConfirm:
		return store.Outcome{Step: orders.StepConfirm, Outcome: orders.OutcomeSucceeded, Settle: orders.StatusConfirmed}, nil
	case orders.StepVoidCharge:
		return s.voidCharge(ctx, sg)
	case orders.StepRefund:
		return s.refund(ctx, sg)
	case orders.StepCancel:
		return store.Outcome{Step: orders.StepCancel, Outcome: orders.OutcomeSucceeded,
			Detail: deref(sg.FailureReason), Settle: orders.StatusCancelled}, nil
	}
	return s.retry(sg, fmt.Errorf("unknown saga step %q", sg.Step))
}

func (s *Service) checkCustomer(ctx context.Context, sg store.Saga) (store.Outcome, error) {
	if time.Now().After(sg.DeadlineAt) {
		return failed(sg.Step, "deadline passed", orders.StepCancel, orders.ReasonDeadlineExceeded), nil
	}
	_, err := s.customers.Get(ctx, users.GetRequest{ID: sg.CustomerID})
	switch {
	case err == nil:
		return succeeded(sg.Step, "", orders.StepCharge), nil
	case errors.Is(err, users.ErrNotFound):
		return failed(sg.Step, "no such customer", orders.StepCancel, orders.ReasonCustomerNotFound), nil
	}
	return s.retry(sg, err)
}

// charge takes the order's total. Once it may have been attempted, every
// way back goes through void_charge: a refusal now does not prove that an
// earlier attempt still in flight will not land later.
func (s *Service) charge(ctx context.Context, sg store.Saga) (store.Outcome, error) {
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
func (s *Service) voidCharge(ctx context.Context, sg store.Saga) (store.Outcome, error) {
	v, err := s.wallets.VoidCharge(ctx, payments.VoidChargeRequest{UserID: sg.CustomerID, ChargeKey: chargeKey(sg.OrderID)})
	if err != nil {
		return s.retry(sg, err)
	}
	detail := "no charge was made; none will be"
	if v.Payment != nil {
		detail = "payment " + v.Payment.ID + " refunded"
	}
	return succeeded(sg.Step, detail, orders.StepCancel), nil
}

// refund gives a confirmed order's money back when its customer cancels.
func (s *Service) refund(ctx context.Context, sg store.Saga) (store.Outcome, error) {
	if sg.PaymentID == nil {
		return succeeded(sg.Step, "nothing to refund", orders.StepCancel), nil
	}
	p, err := s.wallets.Refund(ctx, payments.RefundRequest{
		UserID: sg.CustomerID, PaymentID: *sg.PaymentID, IdempotencyKey: refundKey(sg.OrderID),
	})
	if err != nil {
		return s.retry(sg, err)
	}
	return succeeded(sg.Step, "payment "+p.ID+" refunded", orders.StepCancel), nil
}

// retry keeps the saga at its step, to run again after an exponential
// backoff with jitter. The detail is public: a problem's title, never the
// cause's text, which may name internal addresses.
func (s *Service) retry(sg store.Saga, err error) (store.Outcome, error) {
	detail := "no answer"
	var p *problem.Error
	switch {
	case errors.As(err, &p):
		detail = p.Title
	case errors.Is(err, context.DeadlineExceeded):
		detail = "timed out"
	}
	return store.Outcome{Step: sg.Step, Outcome: orders.OutcomeRetrying, Detail: fmt.Sprintf("%s (attempt %d)", detail, sg.Attempts+1),
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

func succeeded(step, detail, next string) store.Outcome {
	return store.Outcome{Step: step, Outcome: orders.OutcomeSucceeded, Detail: detail, Next: next}
}

func failed(step, detail, next, reason string) store.Outcome {
	return store.Outcome{Step: step, Outcome: orders.OutcomeFailed, Detail: detail, Next: next, Reason: &reason}
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
