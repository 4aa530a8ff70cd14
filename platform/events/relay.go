package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"mitosis/platform/config"
	"mitosis/platform/logging"
	"mitosis/platform/shutdown"
	"mitosis/platform/telemetry"
)

// DeliverFunc hands one event to one subscriber, wherever it runs.
type DeliverFunc func(ctx context.Context, subscriber string, e Event) error

// DeliverBatchFunc hands several events to one subscriber, wherever it
// runs, and reports each one's outcome: errs[i] is batch[i]'s.
type DeliverBatchFunc func(ctx context.Context, subscriber string, batch []Event) (errs []error)

// OneByOne delivers a batch through deliver, one event after another.
func OneByOne(deliver DeliverFunc) DeliverBatchFunc {
	return func(ctx context.Context, subscriber string, batch []Event) []error {
		errs := make([]error, len(batch))
		for i, e := range batch {
			errs[i] = deliver(ctx, subscriber, e)
		}
		return errs
	}
}

// Relay delivers one module's outbox to the subscribers of its events.
type Relay struct {
	module      string
	db          *bun.DB
	subscribers func(eventType string) []string
	deliver     DeliverBatchFunc
	cfg         config.Events
	log         *slog.Logger
	throttle    *logging.Throttle  // repeated failures, once per interval
	metrics     *Metrics           // nil: not measured
	tracing     *telemetry.Tracing // nil: deliveries are not traced
	// step is one round of delivery: a batch of due deliveries attempted
	// (postgres) or of the outbox published (nats). more: go again at
	// once; contended: it did nothing because another relay of this outbox
	// held its lock.
	step func(context.Context) (n int, more, contended bool, err error)
	// fanning: with PostgreSQL as the bus, fan-out runs in a loop of its
	// own (fanLoop) beside step's, so the next batch is fanned out while
	// one is in a subscriber's hands.
	fanning bool

	loop, fanLoop shutdown.Loop
	// wake is rung by this process's commits to the outbox (nil: the
	// relay only polls).
	wake *Wake
}

// lockRetry is how soon a relay tries again when another relay of its
// outbox (a replica) held the lock of the fan-out (or the publish): that
// relay's round may have read the outbox before the commit that woke this
// one, so the event would otherwise wait for the poll.
const lockRetry = 5 * time.Millisecond

// NewRelay returns a relay of module's outbox on db. subscribers names the
// modules that handle an event type; deliver hands each subscriber its
// share of a batch of claimed deliveries at once.
func NewRelay(module string, db *bun.DB, subscribers func(string) []string, deliver DeliverBatchFunc, cfg config.Events, log *slog.Logger) *Relay {
	r := &Relay{module: module, db: db, subscribers: subscribers, deliver: deliver, cfg: cfg, log: log,
		throttle: logging.NewThrottle(log, logging.RepeatInterval)}
	r.step, r.fanning = func(ctx context.Context) (int, bool, bool, error) {
		n, more, err := r.deliverBatch(ctx)
		return n, more, false, err // claims skip what another relay holds: never contended
	}, true
	return r
}

// WokenBy makes w, rung by this process's commits to the outbox, wake the
// relay at once; the poll stays the safety net.
func (r *Relay) WokenBy(w *Wake) *Relay {
	r.wake = w
	return r
}

// Start runs the relay in the background until Stop. A commit to the
// outbox in this process wakes it at once (Wake): the fan-out, which
// wakes the delivery when it made deliveries; the poll is the safety net
// (a writer elsewhere, a retry falling due). A round that found another
// replica holding the outbox's lock goes again after lockRetry, until it
// gets the lock.
func (r *Relay) Start() {
	var wake <-chan struct{}
	if r.wake != nil {
		wake = r.wake.C()
	}
	work := wake
	if r.fanning {
		due := make(chan struct{}, 1)
		fanWake := wake
		if r.wake != nil && r.wake.FansOutOnWrite() {
			// The commits that ring the wake wrote their deliveries: they
			// wake the delivery loop, and the fan-out is left with what no
			// Wake saw, on its poll.
			due, fanWake = r.wake.ch, nil
		}
		r.fanLoop.StartWoken(r.cfg.PollInterval, fanWake, func(ctx context.Context) bool {
			n, deliveries, contended, err := r.fanOut(ctx)
			r.outcome(ctx, "fan-out", err)
			if deliveries > 0 { // events nobody subscribes to leave the delivery loop asleep
				select {
				case due <- struct{}{}:
				default: // a wake already pending covers these too
				}
			}
			if contended {
				return pause(lockRetry, r.fanLoop.Halting())
			}
			return n == r.cfg.BatchSize // more waiting: no pause
		})
		work = due
	}
	r.loop.StartWoken(r.cfg.PollInterval, work, func(ctx context.Context) bool {
		_, more, contended, err := r.step(ctx)
		r.outcome(ctx, "relay", err)
		if contended {
			return pause(lockRetry, r.loop.Halting())
		}
		return more
	})
}

// pause waits d, or until halting, and reports whether to go again at
// once (not halting).
func pause(d time.Duration, halting <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-halting:
		return false
	}
}

// outcome logs a failed round of step, and the recovery: once per
// interval for both loops together (one key), since what fails them is
// mostly the same (the module's database).
func (r *Relay) outcome(ctx context.Context, step string, err error) {
	switch {
	case err == nil:
		r.throttle.Resolved(ctx, "relay", "event relay recovered", "outbox", r.module)
	case ctx.Err() == nil:
		r.throttle.Log(ctx, slog.LevelWarn, "relay", "event relay failed", "outbox", r.module, "step", step, "err", err)
	}
}

// Stop lets the batch in flight finish, its outcomes recorded, within the
// shutdown's time (past it the batch is cut short: its deliveries are
// attempted again later), and starts no other.
func (r *Relay) Stop(ctx context.Context) error {
	var fanCut bool
	var both sync.WaitGroup
	both.Go(func() { fanCut = r.fanLoop.Stop(ctx) })
	cut := r.loop.Stop(ctx)
	both.Wait()
	r.log.Info("shutdown: event relay stopped", "outbox", r.module, "batch_cut_short", cut || fanCut)
	return nil
}

// RunOnce does one round: with PostgreSQL as the bus it fans new events out
// and attempts one batch of due deliveries, with a broker it publishes one
// batch of the outbox. It returns how many events it handed on or tried.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	if r.fanning {
		if _, _, _, err := r.fanOut(ctx); err != nil {
			return 0, err
		}
	}
	n, _, _, err := r.step(ctx)
	return n, err
}

// fanOut creates the delivery rows of events not yet fanned out, a batch
// in two statements: the outbox rows marked, the delivery rows inserted.
// It returns how many events it fanned out, how many deliveries they
// made, and contended when another relay held the lock.
// One relay at a time (a transaction advisory lock), so deliveries appear
// in outbox order and per-aggregate order holds across replicas.
func (r *Relay) fanOut(ctx context.Context) (n, deliveries int, contended bool, err error) {
	contended, err = lockedRelayTx(ctx, r.db, "mitosis.events.fanout.", func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			Seq         int64  `bun:"seq"`
			Type        string `bun:"type"`
			AggregateID string `bun:"aggregate_id"`
		}
		if err := tx.NewRaw(`UPDATE event_outbox SET fanned_out_at = now()
			WHERE seq IN (SELECT seq FROM event_outbox WHERE fanned_out_at IS NULL ORDER BY seq LIMIT ?)
			RETURNING seq, type, aggregate_id`, r.cfg.BatchSize).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		n = len(rows)
		var seqs []int64
		var subs, aggregates []string
		for _, row := range rows {
			for _, sub := range r.subscribers(row.Type) {
				seqs, subs, aggregates = append(seqs, row.Seq), append(subs, sub), append(aggregates, row.AggregateID)
			}
		}
		if len(seqs) == 0 {
			return nil
		}
		if _, err := tx.NewRaw(`INSERT INTO event_deliveries (event_seq, subscriber, aggregate_id)
			SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[]) ON CONFLICT DO NOTHING`,
			pgdialect.Array(seqs), pgdialect.Array(subs), pgdialect.Array(aggregates)).Exec(ctx); err != nil {
			return fmt.Errorf("fan out: %w", err)
		}
		deliveries = len(seqs)
		return nil
	})
	return n, deliveries, contended, err
}

// relayTx runs fn in a transaction whose commit does not wait for its WAL
// to reach the disk. What a relay writes (deliveries fanned out, attempts
// and deliveries recorded, rows marked published) is only its progress: if
// PostgreSQL crashes before the WAL writer flushes it (within
// wal_writer_delay), it is lost with everything committed after it, and
// the relay does the work again: a repeated fan-out conflicts away, a
// repeated delivery finds the event in the subscriber's inbox, a repeated
// publish is dropped by the stream or the inbox. The subscriber's inbox
// transaction stays durable. Woken by every commit to the outbox, a relay
// commits many times a second under load; this keeps each from waiting for
// a flush.
//
// Its queries read partial indexes (unfanned rows, pending deliveries)
// that hold an entry for every row fanned out or delivered since the last
// vacuum. An index scan marks such an entry dead for the scans after it; a
// bitmap scan, which the planner picks when it expects few rows, visits
// each of them again, every time: after a backlog of thousands, some
// milliseconds per query until autovacuum comes. So bitmap scans are off.
func relayTx(ctx context.Context, db *bun.DB, fn func(context.Context, bun.Tx) error) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT "+relaySettings); err != nil {
			return fmt.Errorf("relay transaction: %w", err)
		}
		return fn(ctx, tx)
	})
}

const relaySettings = "set_config('synchronous_commit', 'off', true), set_config('enable_bitmapscan', 'off', true)"

// lockedRelayTx is relayTx for a round that one relay of a schema runs at
// a time: fn runs only if this transaction gets the advisory lock named
// lock (for the schema), taken in the settings' statement; contended
// reports that another relay held it.
func lockedRelayTx(ctx context.Context, db *bun.DB, lock string, fn func(context.Context, bun.Tx) error) (contended bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var settings [2]string
		var locked bool
		if err := tx.NewRaw("SELECT "+relaySettings+", pg_try_advisory_xact_lock(hashtext(? || current_schema()))", lock).
			Scan(ctx, &settings[0], &settings[1], &locked); err != nil {
			return fmt.Errorf("relay transaction: %w", err)
		}
		if !locked {
			contended = true
			return nil
		}
		return fn(ctx, tx)
	})
	return contended, err
}

// Backoff is the delay after the given number of failed attempts: the base
// doubled per attempt, capped, with ±50% jitter so retries of many events
// do not arrive together.
func Backoff(cfg config.Events, attempts int) time.Duration {
	d := cfg.BackoffBase
	for i := 1; i < attempts && d < cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, cfg.BackoffMax)
	return d/2 + rand.N(d) //nolint:gosec // jitter needs no cryptographic randomness
}

func wrap(err error) error {
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("record delivery: %w", err)
	}
	return err
}
