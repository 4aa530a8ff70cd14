package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/logging"
	"mitosis/platform/telemetry"
)

// The JetStream layout, the same in every process.
const (
	// Stream holds the events of every module.
	Stream = "MITOSIS_EVENTS"
	// SubjectPrefix + event type is the subject an event is published on.
	SubjectPrefix = "mitosis.events."
	// replayPrefix + module carries a replayed dead letter to that module
	// alone.
	replayPrefix = "mitosis.replay."
	// streamMaxAge bounds the stream: a subscriber that stays away longer
	// misses events. Limits retention (not interest) so a subscriber whose
	// consumer does not exist yet still finds the events published before.
	streamMaxAge = 7 * 24 * time.Hour
	// dedupeWindow is how long the stream drops a second publish with the
	// same Nats-Msg-Id (the event id); beyond it the inbox still does.
	dedupeWindow = 2 * time.Minute
	// publishTimeout bounds the wait for one publish acknowledgement.
	publishTimeout = 5 * time.Second
)

// Subject is the subject of an event type.
func Subject(eventType string) string { return SubjectPrefix + eventType }

func replaySubject(module string) string { return replayPrefix + module }

// Broker is this process's connection to NATS JetStream when
// EVENTS_BROKER=nats: relays publish to it, subscribers consume from it.
type Broker struct {
	cfg     config.Events
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	tracing *telemetry.Tracing // nil: publishes are not traced
}

// NewBroker returns a broker of cfg.NATSURL; Start connects it.
func NewBroker(cfg config.Events, log *slog.Logger) *Broker {
	return &Broker{cfg: cfg, log: log}
}

// Start connects, reconnecting for ever after a first success, and creates
// or updates the stream, so every process may start first.
func (b *Broker) Start(ctx context.Context) error {
	nc, err := nats.Connect(b.cfg.NATSURL, nats.Name("mitosis"), nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { b.log.Warn("nats disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { b.log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }))
	if err != nil {
		return fmt.Errorf("connect to nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{SubjectPrefix + ">", replayPrefix + ">"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     streamMaxAge,
		Duplicates: dedupeWindow,
	})
	if err != nil {
		nc.Close()
		return fmt.Errorf("create stream %s: %w", Stream, err)
	}
	b.nc, b.js = nc, js
	b.log.Info("events broker", "broker", "nats", "stream", Stream, "url", nc.ConnectedUrlRedacted())
	return nil
}

// Stop closes the connection.
func (b *Broker) Stop() {
	if b.nc != nil {
		b.nc.Close()
	}
}

// Ping is the readiness check: connected, and the server answers.
func (b *Broker) Ping(ctx context.Context) error {
	if b.nc == nil || !b.nc.IsConnected() {
		return fmt.Errorf("nats not connected")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, publishTimeout)
		defer cancel()
	}
	return b.nc.FlushWithContext(ctx)
}

// publish sends e on subject and waits for the stream's acknowledgement.
// msgID lets the stream drop a repeat within its dedupe window.
func (b *Broker) publish(ctx context.Context, subject, msgID string, e Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode %s: %w", e.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	msg := &nats.Msg{Subject: subject, Data: data, Header: traceHeaders(e)}
	if _, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("publish %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// Relay returns a relay that publishes module's outbox to the stream.
func (b *Broker) Relay(module string, db *bun.DB, log *slog.Logger) *Relay {
	r := &Relay{module: module, db: db, cfg: b.cfg, log: log, throttle: logging.NewThrottle(log, logging.RepeatInterval)}
	r.step = func(ctx context.Context) (int, bool, bool, error) {
		n, contended, err := b.publishBatch(ctx, module, db)
		return n, n == b.cfg.BatchSize, contended, err // a full batch: more may wait
	}
	return r
}

// publishBatch publishes the oldest unpublished outbox rows in sequence
// order and marks each published (fanned_out_at) once the stream has
// acknowledged it. One relay at a time per schema (a transaction advisory
// lock), so the stream holds each module's events in outbox order, which
// is the order per aggregate (contended: another relay held it). If the
// commit is lost after a publish, the row goes again: the stream drops it
// by its id, or the inbox does.
func (b *Broker) publishBatch(ctx context.Context, module string, db *bun.DB) (n int, contended bool, err error) {
	var perr error
	contended, err = lockedRelayTx(ctx, db, "mitosis.events.publish.", func(ctx context.Context, tx bun.Tx) error {
		var rows []struct {
			Seq int64 `bun:"seq"`
			Event
		}
		if err := tx.NewRaw(`SELECT seq, id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state
			FROM event_outbox WHERE fanned_out_at IS NULL ORDER BY seq LIMIT ?`, b.cfg.BatchSize).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		for _, row := range rows {
			pctx, span := b.startPublish(ctx, module, row.Event)
			perr = b.publish(pctx, Subject(row.Type), row.ID, row.Event)
			endEventSpan(span, perr)
			if perr != nil {
				return nil // keep what the stream has acknowledged; retry the rest next round
			}
			if _, err := tx.NewRaw("UPDATE event_outbox SET fanned_out_at = now() WHERE seq = ?", row.Seq).Exec(ctx); err != nil {
				return fmt.Errorf("mark published: %w", err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, false, err
	}
	return n, contended, perr
}

// ConsumerLag reports, for each module that has a durable consumer on the
// stream at natsURL, the events it has not yet acknowledged: those waiting
// in the stream and the one in hand or waiting for a retry.
func ConsumerLag(ctx context.Context, natsURL string, modules []string) (map[string]uint64, error) {
	nc, err := nats.Connect(natsURL, nats.Name("mitosis-cli"))
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	out := map[string]uint64{}
	for _, m := range modules {
		cons, err := js.Consumer(ctx, Stream, "mitosis-"+m)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // the module subscribes to nothing, or never ran with nats
		}
		if err != nil {
			return nil, fmt.Errorf("consumer of %s: %w", m, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("consumer of %s: %w", m, err)
		}
		out[m] = info.NumPending + uint64(info.NumAckPending) //nolint:gosec // a count, never negative
	}
	return out, nil
}
