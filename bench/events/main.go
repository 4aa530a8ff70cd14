// Command events measures an event bus on PostgreSQL for bench/run.sh, two
// ways:
//
//   - rate: publish a backlog of -n events first, then measure how fast the
//     subscriber works through it: events with their effect per second,
//     from the first effect to the last;
//   - latency: publish one event per transaction at -rate a second for
//     -duration, on schedule whatever the bus does (an open loop; what the
//     publishers could not send by then is dropped, and counted), and
//     measure each event from its publisher's commit to its effect, and
//     the rate the bus kept up with while the publishers ran (kept_rate).
//
// Two buses, the same payload (order.confirmed, as orders publishes it):
//
//   - outbox, the app's: rows written straight into orders.event_outbox
//     with their deliveries (to users), as orders' own transactions write
//     them (fanned out on write); the app, running beside, relays
//     them to users, whose inbox row (and order_stats, in the same
//     transaction) is the effect. Nothing in the app is changed or called.
//     Written from outside the app's process, these rows wake no relay (a
//     module's own commits wake its relay in-process, see
//     platform/events/wake.go): the relay's delivery finds them by its poll
//     (EVENTS_POLL_INTERVAL), which bench/run.sh sets short for these runs
//     (BENCH_EVENT_POLL, 5 ms) so that the poll stands in for the wake-up
//     orders' own commits get, adding up to one interval to each event's
//     latency where the wake-up adds nothing.
//   - watermill, the reference: Watermill's SQL Pub/Sub on PostgreSQL
//     (watermill-sql/v4, pgx), publisher and subscriber in this process;
//     the effect is the subscriber receiving the message, which it acks.
//
// Times come from PostgreSQL's commit timestamps (the cluster must run with
// track_commit_timestamp = on): the publisher's commit, and for the outbox
// the inbox transaction's commit; Watermill's receipt is this process's
// clock, the same host's.
//
// It lives in a Go module of its own so that Watermill never enters the
// app's go.mod. One line of results, EVENTS_RESULT key=value..., on stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// inFlight is how many publishes the latency mode keeps in flight at most:
// enough that one slow commit does not delay the next arrival.
const inFlight = 8

func main() {
	var o options
	flag.StringVar(&o.bus, "bus", "", "outbox (the app's) or watermill")
	flag.StringVar(&o.mode, "mode", "", "rate (drain a backlog of -n events) or latency (publish at -rate for -duration)")
	flag.StringVar(&o.db, "db", "", "PostgreSQL URL")
	flag.IntVar(&o.n, "n", 2000, "rate: events in the backlog")
	flag.Float64Var(&o.rate, "rate", 0, "latency: events published per second")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "latency: how long to publish")
	flag.DurationVar(&o.stall, "stall", 30*time.Second, "give up when no event arrives for this long")
	flag.DurationVar(&o.poll, "poll", 200*time.Millisecond, "watermill: the subscriber's PollInterval (set it to the app's EVENTS_POLL_INTERVAL)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
}

type options struct {
	bus, mode, db   string
	n               int
	rate            float64
	duration, stall time.Duration
	poll            time.Duration // watermill: its subscriber's PollInterval
}

func run(ctx context.Context, o options) error {
	if o.db == "" {
		return errors.New("-db is required")
	}
	if o.mode == "latency" && o.rate <= 0 {
		return errors.New("-mode latency needs -rate > 0")
	}
	if o.mode == "rate" && o.n < 2 {
		return errors.New("-mode rate needs -n of at least 2")
	}
	cfg, err := pgxpool.ParseConfig(o.db)
	if err != nil {
		return fmt.Errorf("parse -db: %w", err)
	}
	cfg.MaxConns = inFlight + 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	var on string
	if err := pool.QueryRow(ctx, "SHOW track_commit_timestamp").Scan(&on); err != nil {
		return fmt.Errorf("read track_commit_timestamp: %w", err)
	}
	if on != "on" {
		return errors.New("the cluster needs track_commit_timestamp = on: times are commit timestamps")
	}

	var b bus
	switch o.bus {
	case "outbox":
		b = &outbox{pool: pool}
	case "watermill":
		b = &watermill{pool: pool, topic: "order.confirmed." + o.mode, poll: o.poll}
	default:
		return fmt.Errorf("-bus must be outbox or watermill, got %q", o.bus)
	}
	if err := b.open(ctx); err != nil {
		return err
	}
	defer b.close()

	switch o.mode {
	case "rate":
		return measureRate(ctx, b, o)
	case "latency":
		return measureLatency(ctx, b, o)
	default:
		return fmt.Errorf("-mode must be rate or latency, got %q", o.mode)
	}
}

// bus is one event bus under measurement.
type bus interface {
	open(ctx context.Context) error
	// subscribe starts the subscriber (the app's runs already).
	subscribe(ctx context.Context) error
	// publish sends n events, one transaction for one event, and returns
	// their keys.
	publish(ctx context.Context, n int) ([]string, error)
	// effects waits until every key has had its effect and returns, per
	// key, its publisher's commit and its effect. stall bounds a wait
	// without progress.
	effects(ctx context.Context, keys []string, stall time.Duration) (map[string]span, error)
	close()
}

// span is one event: its publisher's commit and its effect.
type span struct{ published, effect time.Time }

func measureRate(ctx context.Context, b bus, o options) error {
	keys, err := b.publish(ctx, o.n)
	if err != nil {
		return err
	}
	if err := b.subscribe(ctx); err != nil {
		return err
	}
	got, err := b.effects(ctx, keys, o.stall)
	if err != nil {
		return err
	}
	first, last, published := time.Time{}, time.Time{}, time.Time{}
	for _, s := range got {
		if first.IsZero() || s.effect.Before(first) {
			first = s.effect
		}
		if s.effect.After(last) {
			last = s.effect
		}
		if s.published.After(published) {
			published = s.published // the backlog complete
		}
	}
	secs := last.Sub(first).Seconds()
	if secs <= 0 {
		return fmt.Errorf("%d events took no measurable time: too few", len(got))
	}
	fmt.Printf("EVENTS_RESULT bus=%s mode=rate events=%d seconds=%.3f rate=%.1f first_ms=%.1f\n",
		o.bus, len(got), secs, float64(len(got)-1)/secs, ms(first.Sub(published)))
	return nil
}

func measureLatency(ctx context.Context, b bus, o options) error {
	if err := b.subscribe(ctx); err != nil {
		return err
	}
	total := max(int(o.rate*o.duration.Seconds()), 1)
	keys := make([]string, 0, total)
	var mu sync.Mutex
	start := time.Now()
	// A second of grace past the schedule's end, then what is left unsent
	// is dropped: publishers that cannot keep up do not stretch the run.
	late, dropped, err := pace(ctx, o.rate, total, inFlight, o.duration+time.Second, func(ctx context.Context) error {
		k, err := b.publish(ctx, 1)
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	if err != nil {
		return err
	}
	sentSecs := time.Since(start).Seconds()
	got, err := b.effects(ctx, keys, o.stall)
	if err != nil {
		return err
	}
	lat := make([]time.Duration, 0, len(got))
	for _, s := range got {
		lat = append(lat, s.effect.Sub(s.published))
	}
	slices.Sort(lat)
	fmt.Printf("EVENTS_RESULT bus=%s mode=latency events=%d target_rate=%.1f sent_rate=%.1f kept_rate=%.1f late=%d unsent=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
		o.bus, len(lat), o.rate, float64(len(keys))/sentSecs, keptRate(got), late, dropped,
		ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(lat[len(lat)-1]))
	return nil
}

// keptRate is the rate the bus kept up with while the publishers ran:
// the events whose effect came by the last publisher's commit, per second
// from the first commit to the last. It is at most the rate published,
// and less when the subscriber fell behind; run flat out, it is the
// largest rate the publishers and the bus sustain together on this
// machine, which bench/run.sh halves for the latency run.
func keptRate(got map[string]span) float64 {
	var first, last time.Time
	for _, s := range got {
		if first.IsZero() || s.published.Before(first) {
			first = s.published
		}
		if s.published.After(last) {
			last = s.published
		}
	}
	secs := last.Sub(first).Seconds()
	if secs <= 0 {
		return 0
	}
	kept := 0
	for _, s := range got {
		if !s.effect.After(last) {
			kept++
		}
	}
	return float64(kept) / secs
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile of sorted durations, nearest rank below (as BenchmarkGet's).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}
