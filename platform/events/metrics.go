package events

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/uptrace/bun"
)

// scrapeTimeout bounds the reading of every local outbox at a scrape: a
// database that does not answer costs the scrape this much at most, and
// its module's series are left out (mitosis_events_backlog_up 0).
const scrapeTimeout = 2 * time.Second

// Metrics are the events' numbers: the delivery (or, with NATS, handling)
// durations the relays and consumers observe, and each local module's
// outbox backlog, read from its own database at scrape time with the
// outbox's partial indexes, so a scrape costs a few index lookups per
// module whatever the tables hold.
type Metrics struct {
	delivery *prometheus.HistogramVec

	mu       sync.Mutex
	outboxes []outbox
	seen     map[string]map[string]bool // module → subscribers that had a backlog once
}

// Counts are the delivery attempts of one publisher to one subscriber
// since the process started.
type Counts struct {
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed"`
}

type outbox struct {
	module      string
	db          *bun.DB
	subscribers []string // always shown, at 0 when nothing waits
}

// NewMetrics returns the events' metrics, registered on nothing yet.
func NewMetrics() *Metrics {
	return &Metrics{
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mitosis_events_delivery_duration_seconds",
			Help: "Time to hand one event to one subscriber: a relay's delivery (in-process or over HTTP; each event of a batch " +
				"counts once, with the batch's time), or, with NATS, the subscriber's handling; module is the publisher, outcome delivered or failed.",
			Buckets: prometheus.DefBuckets,
		}, []string{"module", "subscriber", "outcome"}),
		seen: map[string]map[string]bool{},
	}
}

// Watch adds module's outbox, on its own db, to the scraped ones; the
// subscribers of its events have their series from the start.
func (m *Metrics) Watch(module string, db *bun.DB, subscribers ...string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outboxes = append(m.outboxes, outbox{module: module, db: db, subscribers: subscribers})
}

// plainName keeps a label value taken from an envelope (its source) to
// what a module name looks like.
var plainName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// observed records one delivery attempt that started at start.
func (m *Metrics) observed(publisher, subscriber string, start time.Time, err error) {
	if m == nil {
		return
	}
	outcome := "delivered"
	if err != nil {
		outcome = "failed"
	}
	if !plainName.MatchString(publisher) {
		publisher = "other"
	}
	m.delivery.WithLabelValues(publisher, subscriber, outcome).Observe(time.Since(start).Seconds())
}

// attempts are the delivery attempts per [publisher, subscriber], as the
// duration histogram has counted them.
func (m *Metrics) attempts() map[[2]string]Counts {
	ch := make(chan prometheus.Metric)
	go func() {
		m.delivery.Collect(ch)
		close(ch)
	}()
	out := map[[2]string]Counts{}
	for metric := range ch {
		var d dto.Metric
		if metric.Write(&d) != nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range d.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		k := [2]string{labels["module"], labels["subscriber"]}
		c, n := out[k], d.GetHistogram().GetSampleCount()
		if labels["outcome"] == "failed" {
			c.Failed += n
		} else {
			c.Delivered += n
		}
		out[k] = c
	}
	return out
}

var (
	pendingDesc = prometheus.NewDesc("mitosis_events_pending_deliveries",
		"Deliveries of a module's outbox waiting for a subscriber (PostgreSQL bus), retries included.",
		[]string{"module", "subscriber"}, nil)
	oldestDesc = prometheus.NewDesc("mitosis_events_oldest_pending_age_seconds",
		"Age of the oldest event a subscriber has not had yet from a module's outbox (0 when none waits).",
		[]string{"module", "subscriber"}, nil)
	deadDesc = prometheus.NewDesc("mitosis_events_dead_letters",
		"Deliveries that gave up after EVENTS_MAX_ATTEMPTS, until replayed; with NATS, the events a subscriber module gave up on, in its own schema.",
		[]string{"module", "subscriber"}, nil)
	unpublishedDesc = prometheus.NewDesc("mitosis_events_outbox_unpublished",
		"Events of a module's outbox not yet fanned out to their subscribers (PostgreSQL bus) or published (NATS).",
		[]string{"module"}, nil)
	unpublishedAgeDesc = prometheus.NewDesc("mitosis_events_outbox_oldest_unpublished_age_seconds",
		"Age of the oldest event of a module's outbox not yet fanned out or published (0 when none).",
		[]string{"module"}, nil)
	backlogUpDesc = prometheus.NewDesc("mitosis_events_backlog_up",
		"1 if a module's outbox could be read at this scrape, 0 if its database did not answer in time.",
		[]string{"module"}, nil)
)

// Describe sends every descriptor.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.delivery.Describe(ch)
	for _, d := range []*prometheus.Desc{pendingDesc, oldestDesc, deadDesc, unpublishedDesc, unpublishedAgeDesc, backlogUpDesc} {
		ch <- d
	}
}

// Collect reads every outbox at once, within scrapeTimeout.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.delivery.Collect(ch)
	m.mu.Lock()
	all := append([]outbox(nil), m.outboxes...)
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, o := range all {
		wg.Go(func() { m.collect(ctx, o, ch) })
	}
	wg.Wait()
}

// backlogRow is one line of backlogQuery.
type backlogRow struct {
	Kind       string  `bun:"kind"`
	Subscriber string  `bun:"subscriber"`
	N          int64   `bun:"n"`
	Age        float64 `bun:"age"`
}

// backlogQuery reads a module's backlog in one round trip, each part on a
// partial index (pending and dead deliveries, unpublished rows) or the
// small dead-letter table.
const backlogQuery = `
SELECT 'pending' AS kind, s.subscriber, s.n, extract(epoch FROM now() - o.occurred_at)::float8 AS age
	FROM (SELECT subscriber, count(*) AS n, min(event_seq) AS first FROM event_deliveries
		WHERE status = 'pending' GROUP BY subscriber) s
	JOIN event_outbox o ON o.seq = s.first
UNION ALL
SELECT 'dead', subscriber, count(*), 0 FROM event_deliveries WHERE status = 'dead' GROUP BY subscriber
UNION ALL
SELECT 'dead', subscriber, count(*), 0 FROM event_dead_letters WHERE status = 'dead' GROUP BY subscriber
UNION ALL
SELECT 'unpublished', '', count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8
	FROM event_outbox WHERE fanned_out_at IS NULL`

func (m *Metrics) collect(ctx context.Context, o outbox, ch chan<- prometheus.Metric) {
	var rows []backlogRow
	if err := o.db.NewRaw(backlogQuery).Scan(ctx, &rows); err != nil {
		ch <- prometheus.MustNewConstMetric(backlogUpDesc, prometheus.GaugeValue, 0, o.module)
		return
	}
	ch <- prometheus.MustNewConstMetric(backlogUpDesc, prometheus.GaugeValue, 1, o.module)
	pending, age, dead := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, r := range rows {
		switch r.Kind {
		case "pending":
			pending[r.Subscriber], age[r.Subscriber] = float64(r.N), max(r.Age, 0)
		case "dead":
			dead[r.Subscriber] += float64(r.N)
		case "unpublished":
			ch <- prometheus.MustNewConstMetric(unpublishedDesc, prometheus.GaugeValue, float64(r.N), o.module)
			ch <- prometheus.MustNewConstMetric(unpublishedAgeDesc, prometheus.GaugeValue, max(r.Age, 0), o.module)
		}
	}
	// A subscriber of the module's events, or one seen with a backlog
	// (a replay after a subscription ended), keeps its series, at 0 once
	// it has caught up.
	m.mu.Lock()
	seen := m.seen[o.module]
	if seen == nil {
		seen = map[string]bool{}
		for _, sub := range o.subscribers {
			seen[sub] = true
		}
		m.seen[o.module] = seen
	}
	for _, set := range []map[string]float64{pending, dead} {
		for sub := range set {
			seen[sub] = true
		}
	}
	subs := make([]string, 0, len(seen))
	for sub := range seen {
		subs = append(subs, sub)
	}
	m.mu.Unlock()
	for _, sub := range subs {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, pending[sub], o.module, sub)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age[sub], o.module, sub)
		ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, dead[sub], o.module, sub)
	}
}

// Measured makes the relay observe its deliveries in m.
func (r *Relay) Measured(m *Metrics) *Relay {
	r.metrics = m
	return r
}
