package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"

	"mitosis/platform/logging"
)

// ackWait is how long the broker waits for an acknowledgement before it
// delivers a message again; a handler runs in one short transaction.
const ackWait = 30 * time.Second

// stopWait bounds the wait for the event in hand at shutdown.
const stopWait = 5 * time.Second

// Consumer hands the events one local subscriber module takes from the
// stream to the Bus, which applies each in one transaction with the inbox.
//
// Order: the durable consumer has MaxAckPending 1, so the broker hands the
// module one event at a time in stream order and holds the next one until
// the current one is acknowledged, retried to success or dead-lettered.
// Stream order is outbox order per publisher, hence order per aggregate.
// The price is head-of-line blocking: while an event waits for a retry,
// every later event of this module waits too, not only those of its
// aggregate (the PostgreSQL bus holds only the aggregate). Partitioned
// subjects (a consumer per hash of the aggregate id) would lift that if a
// module ever needs more than one event in flight; one at a time is
// simple and fast enough at our volumes.
//
// Dead letters: the consumer counts deliveries itself (MaxDeliver is
// unlimited) and, at EVENTS_MAX_ATTEMPTS, records the event in the
// module's event_dead_letters table before it tells the broker to stop
// (Term). Had the broker given up on its own at MaxDeliver, a failure to
// record the dead letter would lose the event.
type Consumer struct {
	module string
	types  []string
	bus    *Bus
	db     *bun.DB
	broker *Broker
	log    *slog.Logger
	// throttle logs repeated handling failures once per interval.
	throttle *logging.Throttle
	metrics  *Metrics // nil: not measured

	cc     jetstream.ConsumeContext
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// Consumer returns the consumer of module's subscribed event types, with
// module's inbox and dead letters on db.
func (b *Broker) Consumer(module string, types []string, bus *Bus, db *bun.DB) *Consumer {
	return &Consumer{module: module, types: types, bus: bus, db: db, broker: b, log: b.log,
		throttle: logging.NewThrottle(b.log, logging.RepeatInterval)}
}

// Start creates or updates the module's durable consumer and consumes.
func (c *Consumer) Start(ctx context.Context) error {
	filters := []string{replaySubject(c.module)}
	for _, t := range c.types {
		filters = append(filters, Subject(t))
	}
	cons, err := c.broker.js.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
		Durable:        "mitosis-" + c.module,
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        ackWait,
		MaxDeliver:     -1,
		MaxAckPending:  1,
	})
	if err != nil {
		return fmt.Errorf("consumer of %s: %w", c.module, err)
	}
	run, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.cc, err = cons.Consume(func(m jetstream.Msg) { c.handle(run, m) })
	if err != nil {
		cancel()
		return fmt.Errorf("consume for %s: %w", c.module, err)
	}
	c.done.Go(func() { c.redriveLoop(run) })
	return nil
}

// Stop stops consuming and waits for the event in hand, within ctx.
func (c *Consumer) Stop(ctx context.Context) error {
	if c.cc == nil {
		return nil
	}
	// Drain hands the event already fetched to the handler; without a
	// connection it would wait for one, so then stop at once: the broker
	// delivers that event again after ackWait.
	if c.broker.nc.IsConnected() {
		c.cc.Drain()
	} else {
		c.cc.Stop()
	}
	wait := time.NewTimer(stopWait)
	defer wait.Stop()
	select {
	case <-c.cc.Closed():
	case <-ctx.Done():
	case <-wait.C:
		c.log.Warn("event consumer did not stop in time", "subscriber", c.module)
	}
	c.cancel()
	c.done.Wait()
	c.log.Info("shutdown: event consumer stopped", "subscriber", c.module)
	return nil
}

func (c *Consumer) handle(ctx context.Context, m jetstream.Msg) {
	e, err := DecodeEvent(m.Data())
	if err != nil {
		// Retrying cannot mend it, and the dead letters could not store it.
		c.log.Error("undecodable event dropped", "subscriber", c.module, "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	e = e.withHeaderTrace(m.Headers())
	start := time.Now()
	herr := c.bus.Deliver(ctx, c.module, e)
	c.metrics.observed(e.Source, c.module, start, herr)
	if herr == nil {
		c.throttle.Resolved(ctx, "handling", "event handling recovered", "subscriber", c.module)
		if err := m.Ack(); err != nil {
			// Delivered again later; the inbox absorbs it.
			c.log.Warn("event ack", "subscriber", c.module, "id", e.ID, "err", err)
		}
		return
	}
	if ctx.Err() != nil {
		_ = m.Nak() // shutting down
		return
	}
	attempts := 1
	if md, err := m.Metadata(); err == nil {
		attempts = int(md.NumDelivered)
	}
	cfg := c.broker.cfg
	if attempts >= cfg.MaxAttempts {
		if err := c.bury(ctx, e, attempts, herr); err != nil {
			c.log.Error("record dead letter", "subscriber", c.module, "id", e.ID, "err", err)
			_ = m.NakWithDelay(Backoff(cfg, attempts))
			return
		}
		c.log.Error("event dead-lettered", "subscriber", c.module, "type", e.Type, "id", e.ID, "attempts", attempts, "err", herr)
		_ = m.Term()
		return
	}
	wait := Backoff(cfg, attempts)
	c.throttle.Log(ctx, slog.LevelWarn, "handling", "event handling failed", "subscriber", c.module, "type", e.Type, "id", e.ID,
		"attempts", attempts, "retry_in", wait, "err", herr)
	_ = m.NakWithDelay(wait)
}

// bury records e as a dead letter of this module.
func (c *Consumer) bury(ctx context.Context, e Event, attempts int, cause error) error {
	_, err := c.db.NewRaw(`INSERT INTO event_dead_letters
			(event_id, subscriber, type, aggregate_id, source, payload, occurred_at, attempts, last_error, trace_parent, trace_state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, subscriber) DO UPDATE SET status = 'dead', attempts = EXCLUDED.attempts,
			last_error = EXCLUDED.last_error, died_at = now()`,
		e.ID, c.module, e.Type, e.AggregateID, e.Source, string(e.Payload), e.OccurredAt, attempts, cause.Error(),
		e.TraceParent, e.TraceState).Exec(ctx)
	return err
}

// redriveLoop puts the dead letters that `app events replay` marked
// pending back on the stream, for this module alone, until ctx ends.
func (c *Consumer) redriveLoop(ctx context.Context) {
	tick := time.NewTicker(c.broker.cfg.PollInterval)
	defer tick.Stop()
	for {
		if err := c.redrive(ctx); err != nil && ctx.Err() == nil {
			c.throttle.Log(ctx, slog.LevelWarn, "replay", "event replay failed", "subscriber", c.module, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// redrive publishes one batch of pending dead letters to the module's
// replay subject and removes them once the stream holds them; each comes
// back with fresh attempts, and dies again if it fails as often.
func (c *Consumer) redrive(ctx context.Context) error {
	return c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var batch []Event
		if err := tx.NewRaw(`SELECT event_id AS id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state
			FROM event_dead_letters WHERE status = 'pending' AND subscriber = ?
			ORDER BY died_at LIMIT ? FOR UPDATE SKIP LOCKED`, c.module, c.broker.cfg.BatchSize).Scan(ctx, &batch); err != nil {
			return fmt.Errorf("read replays: %w", err)
		}
		for _, e := range batch {
			// A fresh message id: the stream may still remember the event's own.
			if err := c.broker.publish(ctx, replaySubject(c.module), uuid.NewString(), e); err != nil {
				return err
			}
			if _, err := tx.NewRaw("DELETE FROM event_dead_letters WHERE event_id = ? AND subscriber = ?", e.ID, c.module).Exec(ctx); err != nil {
				return fmt.Errorf("replayed: %w", err)
			}
		}
		return nil
	})
}
