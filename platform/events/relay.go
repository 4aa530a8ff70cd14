package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/logging"
	"mitosis/platform/shutdown"
	"mitosis/platform/telemetry"
)

// DeliverFunc hands one event to one subscriber, wherever it runs.
type DeliverFunc func(ctx context.Context, subscriber string, e Event) error

// Relay delivers one module's outbox to the subscribers of its events.
type Relay struct {
	module      string
	db          *bun.DB
	subscribers func(eventType string) []string
	deliver     DeliverFunc
	cfg         config.Events
	log         *slog.Logger
	throttle    *logging.Throttle  // repeated failures, once per interval
	metrics     *Metrics           // nil: not measured
	tracing     *telemetry.Tracing // nil: deliveries are not traced
	// step is one round of work: fan out and deliver (postgres), or
	// publish to the broker (nats).
	step func(context.Context) (int, error)

	loop shutdown.Loop
}

// NewRelay returns a relay of module's outbox on db. subscribers names the
// modules that handle an event type.
func NewRelay(module string, db *bun.DB, subscribers func(string) []string, deliver DeliverFunc, cfg config.Events, log *slog.Logger) *Relay {
	r := &Relay{module: module, db: db, subscribers: subscribers, deliver: deliver, cfg: cfg, log: log,
		throttle: logging.NewThrottle(log, logging.RepeatInterval)}
	r.step = r.fanOutAndDeliver
	return r
}

// Start runs the relay in the background until Stop.
func (r *Relay) Start() {
	r.loop.Start(r.cfg.PollInterval, func(ctx context.Context) bool {
		n, err := r.RunOnce(ctx)
		switch {
		case err == nil:
			r.throttle.Resolved(ctx, "relay", "event relay recovered", "outbox", r.module)
		case ctx.Err() == nil:
			r.throttle.Log(ctx, slog.LevelWarn, "relay", "event relay failed", "outbox", r.module, "err", err)
		}
		return n == r.cfg.BatchSize // more waiting: no pause
	})
}

// Stop lets the batch in flight finish, its outcomes recorded, within the
// shutdown's time (past it the batch is cut short: its deliveries are
// attempted again later), and starts no other.
func (r *Relay) Stop(ctx context.Context) error {
	cut := r.loop.Stop(ctx)
	r.log.Info("shutdown: event relay stopped", "outbox", r.module, "batch_cut_short", cut)
	return nil
}

// RunOnce does one round: with PostgreSQL as the bus it fans new events out
// and attempts one batch of due deliveries, with a broker it publishes one
// batch of the outbox. It returns how many events it handed on or tried.
func (r *Relay) RunOnce(ctx context.Context) (int, error) { return r.step(ctx) }

func (r *Relay) fanOutAndDeliver(ctx context.Context) (int, error) {
	if err := r.fanOut(ctx); err != nil {
		return 0, err
	}
	return r.deliverBatch(ctx)
}

// fanOut creates the delivery rows of events not yet fanned out. One relay
// at a time (a transaction advisory lock), so deliveries appear in outbox
// order and per-aggregate order holds across replicas.
func (r *Relay) fanOut(ctx context.Context) error {
	return r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var locked bool
		if err := tx.NewRaw("SELECT pg_try_advisory_xact_lock(hashtext('mitosis.events.fanout.' || current_schema()))").Scan(ctx, &locked); err != nil {
			return fmt.Errorf("fan-out lock: %w", err)
		}
		if !locked {
			return nil
		}
		var rows []struct {
			Seq         int64  `bun:"seq"`
			Type        string `bun:"type"`
			AggregateID string `bun:"aggregate_id"`
		}
		if err := tx.NewRaw(`SELECT seq, type, aggregate_id FROM event_outbox WHERE fanned_out_at IS NULL ORDER BY seq LIMIT ?`,
			r.cfg.BatchSize).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		for _, row := range rows {
			for _, sub := range r.subscribers(row.Type) {
				if _, err := tx.NewRaw(`INSERT INTO event_deliveries (event_seq, subscriber, aggregate_id) VALUES (?, ?, ?)
					ON CONFLICT DO NOTHING`, row.Seq, sub, row.AggregateID).Exec(ctx); err != nil {
					return fmt.Errorf("fan out: %w", err)
				}
			}
			if _, err := tx.NewRaw("UPDATE event_outbox SET fanned_out_at = now() WHERE seq = ?", row.Seq).Exec(ctx); err != nil {
				return fmt.Errorf("fan out: %w", err)
			}
		}
		return nil
	})
}

type due struct {
	Seq        int64  `bun:"seq"`
	Subscriber string `bun:"subscriber"`
	Attempts   int    `bun:"attempts"`
	Event
}

// deliverBatch claims due deliveries whose aggregate has no earlier pending
// delivery to the same subscriber, skipping rows another relay holds, and
// records each outcome in the same transaction.
func (r *Relay) deliverBatch(ctx context.Context) (int, error) {
	n := 0
	err := r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var batch []due
		err := tx.NewRaw(`SELECT d.event_seq AS seq, d.subscriber, d.attempts,
				o.id, o.type, o.aggregate_id, o.source, o.payload, o.occurred_at, o.trace_parent, o.trace_state
			FROM event_deliveries d JOIN event_outbox o ON o.seq = d.event_seq
			WHERE d.status = 'pending' AND d.next_attempt_at <= now()
			  AND NOT EXISTS (SELECT 1 FROM event_deliveries e
				WHERE e.subscriber = d.subscriber AND e.aggregate_id = d.aggregate_id
				  AND e.status = 'pending' AND e.event_seq < d.event_seq)
			ORDER BY d.event_seq
			LIMIT ?
			FOR UPDATE OF d SKIP LOCKED`, r.cfg.BatchSize).Scan(ctx, &batch)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		n = len(batch)
		for _, d := range batch {
			if err := r.attempt(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

func (r *Relay) attempt(ctx context.Context, tx bun.Tx, d due) error {
	start := time.Now()
	derr := r.deliverTraced(ctx, d)
	if derr == nil || ctx.Err() == nil { // a delivery cut by shutdown says nothing of the subscriber
		r.metrics.observed(r.module, d.Subscriber, start, derr)
	}
	if derr == nil {
		r.throttle.Resolved(ctx, "delivery:"+d.Subscriber, "event deliveries recovered", "subscriber", d.Subscriber)
		_, err := tx.NewRaw(`UPDATE event_deliveries SET status = 'delivered', attempts = attempts + 1,
			delivered_at = now(), last_error = NULL WHERE event_seq = ? AND subscriber = ?`, d.Seq, d.Subscriber).Exec(ctx)
		return wrap(err)
	}
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: this attempt does not count
	}
	attempts := d.Attempts + 1
	if attempts >= r.cfg.MaxAttempts {
		r.log.ErrorContext(ctx, "event dead-lettered", "outbox", r.module, "subscriber", d.Subscriber,
			"type", d.Type, "id", d.ID, "attempts", attempts, "err", derr)
		_, err := tx.NewRaw(`UPDATE event_deliveries SET status = 'dead', attempts = ?, last_error = ?
			WHERE event_seq = ? AND subscriber = ?`, attempts, derr.Error(), d.Seq, d.Subscriber).Exec(ctx)
		return wrap(err)
	}
	wait := Backoff(r.cfg, attempts)
	r.throttle.Log(ctx, slog.LevelWarn, "delivery:"+d.Subscriber, "event delivery failed", "outbox", r.module, "subscriber", d.Subscriber,
		"type", d.Type, "id", d.ID, "attempts", attempts, "retry_in", wait, "err", derr)
	_, err := tx.NewRaw(`UPDATE event_deliveries SET attempts = ?, last_error = ?,
		next_attempt_at = now() + ? * interval '1 microsecond' WHERE event_seq = ? AND subscriber = ?`,
		attempts, derr.Error(), wait.Microseconds(), d.Seq, d.Subscriber).Exec(ctx)
	return wrap(err)
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
