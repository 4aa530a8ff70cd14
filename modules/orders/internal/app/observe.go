package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
	"mitosis/platform/contract"
	"mitosis/platform/logging"
)

// scrapeTimeout bounds the count of unfinished sagas at a scrape.
const scrapeTimeout = 2 * time.Second

// Telemetry is what the saga reports to: its log and its metrics. The
// zero value reports nothing.
type Telemetry struct {
	Log     *slog.Logger
	Metrics *Metrics
}

// Metrics are the saga's numbers, which the orders module registers
// itself: unfinished sagas by step (counted in the database at scrape
// time), step retries, compensations, and settled orders by outcome.
type Metrics struct {
	store         *store.Store
	retries       *prometheus.CounterVec
	compensations *prometheus.CounterVec
	settled       *prometheus.CounterVec
}

// NewMetrics registers the saga's metrics on reg.
func NewMetrics(reg prometheus.Registerer, s *store.Store) (*Metrics, error) {
	m := &Metrics{
		store: s,
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mitosis_orders_saga_step_retries_total",
			Help: "Saga steps scheduled again because a dependency did not answer (no connection, a 5xx, an open breaker, a timeout), by step.",
		}, []string{"step"}),
		compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mitosis_orders_saga_compensations_total",
			Help: "Compensating saga steps completed (void_charge after a failed or late charge, refund after a customer's cancellation), by step.",
		}, []string{"step"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mitosis_orders_sagas_settled_total",
			Help: "Orders whose saga ended, by status (confirmed, cancelled) and failure reason (none when confirmed).",
		}, []string{"status", "reason"}),
	}
	for _, c := range []prometheus.Collector{m.retries, m.compensations, m.settled, sagaCollector{m}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

var unfinishedDesc = prometheus.NewDesc("mitosis_orders_sagas",
	"Sagas not settled yet, by the step they run or wait at (check_customer, reserve_stock, charge, confirm, void_charge, refund, release_stock, cancel).",
	[]string{"step"}, nil)

// allSteps are the steps an unfinished saga can be at, each always shown.
var allSteps = []string{orders.StepCheckCustomer, orders.StepReserveStock, orders.StepCharge, orders.StepConfirm,
	orders.StepVoidCharge, orders.StepRefund, orders.StepReleaseStock, orders.StepCancel}

type sagaCollector struct{ m *Metrics }

func (c sagaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- unfinishedDesc }

func (c sagaCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.m.store.UnfinishedSagas(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(unfinishedDesc, err) // left out of this scrape, logged by the handler
		return
	}
	for _, step := range allSteps {
		ch <- prometheus.MustNewConstMetric(unfinishedDesc, prometheus.GaugeValue, float64(counts[step]), step)
	}
}

// observer reports each step's recorded outcome.
type observer struct {
	log      *slog.Logger
	throttle *logging.Throttle
	m        *Metrics
}

func newObserver(t Telemetry) observer {
	log := t.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return observer{log: log, throttle: logging.NewThrottle(log, logging.RepeatInterval), m: t.Metrics}
}

// step reports the outcome out of sg's current step, cause being why it
// must be retried. Retries are logged once per interval for each step and
// code, since a dependency that is down makes every saga retry; the
// decision to compensate and each compensation are logged every time.
func (o observer) step(ctx context.Context, sg saga, out outcome, cause error) {
	switch {
	case out.Outcome == orders.OutcomeRetrying:
		if o.m != nil {
			o.m.retries.WithLabelValues(sg.Step).Inc()
		}
		code := "unknown"
		if cause != nil {
			code = contract.Code(cause)
		}
		o.throttle.Log(ctx, slog.LevelWarn, "retry:"+sg.Step+":"+code, "saga step will be retried",
			"order_id", sg.OrderID, "step", sg.Step, "attempt", sg.Attempts+1, "retry_in", out.RetryIn, "cause", causeOf(cause, out))
	case out.Outcome == orders.OutcomeFailed && out.Reason != nil:
		o.log.WarnContext(ctx, "saga compensates", "order_id", sg.OrderID, "step", sg.Step, "reason", *out.Reason, "cause", out.Detail)
	case out.Step == orders.StepVoidCharge || out.Step == orders.StepRefund || out.Step == orders.StepReleaseStock:
		if o.m != nil {
			o.m.compensations.WithLabelValues(out.Step).Inc()
		}
		o.log.InfoContext(ctx, "saga compensation done", "order_id", sg.OrderID, "step", out.Step,
			"reason", deref(sg.FailureReason), "result", out.Detail)
	}
	if out.Settle != "" {
		if o.m != nil {
			reason := deref(sg.FailureReason)
			if out.Settle == orders.StatusConfirmed || reason == "" {
				reason = "none"
			}
			o.m.settled.WithLabelValues(out.Settle, reason).Inc()
		}
	}
}

// causeOf is the error behind a retry, for the log: its text names the
// call and the dependency (for operators; the history shows only the
// public detail).
func causeOf(err error, out outcome) string {
	if err == nil {
		return out.Detail
	}
	return err.Error()
}

// Retries is the retry counter of step (for tests and the console).
func (m *Metrics) Retries(step string) prometheus.Counter { return m.retries.WithLabelValues(step) }

// Compensations is the counter of compensating step.
func (m *Metrics) Compensations(step string) prometheus.Counter {
	return m.compensations.WithLabelValues(step)
}

// Settled is the counter of orders settled with status for reason.
func (m *Metrics) Settled(status, reason string) prometheus.Counter {
	return m.settled.WithLabelValues(status, reason)
}
