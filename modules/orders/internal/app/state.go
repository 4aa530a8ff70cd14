package app

import (
	"time"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
)

// stepDone is the step of a settled saga: nothing is left to run.
const stepDone = store.StepDone

// saga is an order's saga as a runner holds it.
type saga struct {
	OrderID    string
	CustomerID string
	TotalCents int64
	Step       string
	// Attempts already made at Step, each recorded as a retry.
	Attempts      int
	DeadlineAt    time.Time
	PaymentID     *string
	FailureReason *string
	Owner         string
	// TraceParent is the W3C traceparent of the request that started this
	// run of the saga ("" if untraced).
	TraceParent string
	// Settled and SettledAt are the status and time the runner recorded
	// for the order when it settled it.
	Settled   string
	SettledAt time.Time
}

func sagaOf(r store.SagaRow) saga {
	return saga{OrderID: r.OrderID, CustomerID: r.CustomerID, TotalCents: r.TotalCents, Step: r.Step, Attempts: r.Attempts,
		DeadlineAt: r.DeadlineAt, PaymentID: r.PaymentID, FailureReason: r.FailureReason, Owner: r.Owner, TraceParent: r.TraceParent}
}

// outcome is one step's result, recorded before the next step starts.
type outcome struct {
	Step    string
	Outcome string
	Detail  string
	// Next is the step to run next; Step again to retry it after RetryIn.
	Next      string
	RetryIn   time.Duration
	PaymentID *string
	Reason    *string
	// Settle moves the order to this status, as of At, with its event:
	// the saga's last step.
	Settle string
	At     time.Time
}

func (o outcome) record() store.StepRecord {
	return store.StepRecord{Step: o.Step, Outcome: o.Outcome, Detail: o.Detail}
}

// retries reports an outcome that keeps the saga at its step.
func (o outcome) retries() bool { return o.Next == o.Step }

// after is the saga once out, an outcome of its current step that moves
// it on, is recorded.
func after(sg saga, out outcome) saga {
	sg.Step, sg.Attempts = out.Next, 0
	if out.Settle != "" {
		sg.Step, sg.Settled, sg.SettledAt = stepDone, out.Settle, out.At
	}
	if out.PaymentID != nil {
		sg.PaymentID = out.PaymentID
	}
	if out.Reason != nil {
		sg.FailureReason = out.Reason
	}
	return sg
}

// local reports a step that calls no other module and cannot fail.
func local(step string) bool { return step == orders.StepCancel }

// compensating reports a step of the way back: one that undoes a charge or
// a reservation, or ends the order.
func compensating(step string) bool {
	switch step {
	case orders.StepVoidCharge, orders.StepRefund, orders.StepReleaseStock, orders.StepCancel:
		return true
	}
	return false
}

func succeeded(step, detail, next string) outcome {
	return outcome{Step: step, Outcome: orders.OutcomeSucceeded, Detail: detail, Next: next}
}

func failed(step, detail, next, reason string) outcome {
	return outcome{Step: step, Outcome: orders.OutcomeFailed, Detail: detail, Next: next, Reason: &reason}
}

// now is a time as PostgreSQL stores it.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
