// Package events carries each module's domain events to the modules that
// subscribe to them, with the transactional outbox pattern:
//
//   - A publisher appends the event to the outbox table in its own schema,
//     in the same transaction as the change (Append), so there is no event
//     without the change and no change without the event.
//   - A relay per local module (Relay) reads only that module's outbox, fans
//     each event out into one delivery row per subscriber, and delivers it at
//     least once, in order per (aggregate, subscriber): by direct call when
//     the subscriber runs in this process, by POST /internal/<subscriber>/events/batch with the
//     service credentials when it runs elsewhere. Failures retry with
//     exponential backoff and jitter; after EVENTS_MAX_ATTEMPTS the delivery
//     is a dead letter, which `app events replay` puts back in line. Rows
//     are claimed with FOR UPDATE SKIP LOCKED, so replicas never deliver the
//     same row concurrently.
//   - A subscriber (Bus) records each event it handles in an inbox table in
//     its own schema, in one transaction with the handler's writes, so a
//     redelivered event has no second effect.
//   - Both work in batches: a relay fans out and claims up to
//     EVENTS_BATCH_SIZE rows at a time, each in a statement or two, and
//     hands each subscriber its share of a claim at once (POST
//     /internal/<subscriber>/events/batch when remote), which applies it in
//     one inbox transaction: the inbox rows in one statement, the handlers
//     (or a module's set-based BatchHandler) inside. If that transaction
//     fails, the events are applied one by one, so an event that cannot be
//     handled fails, retries and dead-letters alone. A claim holds at most
//     one event per aggregate and subscriber, so order per aggregate is
//     untouched by batching.
//
// Order per aggregate rests on the outbox sequence: a later event of an
// aggregate has a higher sequence number because the publisher serialises
// writes to one aggregate (each transition updates the aggregate's row, so
// the second waits for the first to commit), as every module here does.
//
// Why hand-written and not Watermill or River: both were considered.
// Watermill's SQL Pub/Sub and its forwarder give an outbox, but a subscriber
// there consumes the publisher's table (cross-schema reads, which our
// per-module roles forbid) or a broker we do not run yet; its router does
// not switch between an in-process call and authenticated HTTP per
// subscriber from the placement. River is a durable job queue: a delivery
// job could live in the publisher's schema, but River brings its own
// migrations, leader election and tables per schema (one client per
// module), and still needs the per-aggregate ordering across jobs that it
// does not offer. The relay here is about 200 lines of SQL we can read, on
// the bun connection each module already has.
//
// # A real broker: EVENTS_BROKER=nats
//
// Where PostgreSQL no longer fits as the bus (many subscribers, volume,
// consumers outside this binary), the same outbox feeds NATS JetStream:
//
//   - The relay of each local module publishes its outbox rows, in sequence
//     order, to the stream MITOSIS_EVENTS on subject mitosis.events.<type>,
//     with Nats-Msg-Id = the event id so the stream drops a repeat, and
//     marks a row published (fanned_out_at) only after the stream's
//     acknowledgement (Broker). Outbox lag is then the unpublished rows.
//   - Each local subscriber module consumes its types with one durable
//     consumer (Consumer), hands each message to the same Bus (inbox and
//     handler in one transaction) and acknowledges after the commit.
//     Failures are retried with the same backoff (NakWithDelay); at
//     EVENTS_MAX_ATTEMPTS the event is recorded in the subscriber's
//     event_dead_letters, which `app events dead|replay` read and replay.
//     MaxAckPending 1 keeps the stream's order (see Consumer for the cost).
//   - NATS is not batched, on purpose: the stream's order is the order per
//     aggregate, and it holds because the relay publishes the next row only
//     once the stream acknowledged the one before (publishes in flight
//     together could land a later event of an aggregate before an earlier
//     one that failed and goes again), and because the consumer holds one
//     unacknowledged message at a time (several in hand, one retried while
//     the others are acknowledged, would apply them out of order). Batching
//     there needs partitioned subjects (see Consumer) first.
//
// Why the official client (github.com/nats-io/nats.go and its jetstream
// package): it is the reference client, covers streams, durable pull
// consumers, dedupe headers and delayed naks, and the server's own Go
// module embeds a real JetStream server in tests (platform/natstest).
// Watermill was considered again: its NATS JetStream Pub/Sub would add a
// router, marshaler and middleware layer on top of the same client, while
// the outbox, inbox, ordering and dead letters stay ours anyway; the
// client directly is less code to read.
package events

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"mitosis/platform/db"
)

// Migrations is the SQL of the outbox, delivery and inbox tables, applied to
// every module's schema beside the module's own migrations.
//
//go:embed *.sql
var Migrations embed.FS

// Event is the envelope of one domain event.
type Event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	AggregateID string          `json:"aggregate_id"`
	Source      string          `json:"source"`
	Payload     json.RawMessage `json:"payload"`
	OccurredAt  time.Time       `json:"occurred_at"`
	// TraceParent and TraceState are the W3C trace context of the
	// transaction that wrote the event (see trace.go); empty when untraced.
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
}

// New wraps payload (marshalled as JSON) into an event of source's
// aggregate.
func New(source, eventType, aggregateID string, payload any) (Event, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return Event{ID: uuid.NewString(), Type: eventType, AggregateID: aggregateID, Source: source,
		Payload: raw, OccurredAt: time.Now().UTC()}, nil
}

// Decode unmarshals the payload into out.
func (e Event) Decode(out any) error {
	if err := json.Unmarshal(e.Payload, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// Append writes an event to the outbox of the module whose schema db (a
// transaction, normally) is on. It commits or rolls back with the change.
func Append(ctx context.Context, db bun.IDB, source, eventType, aggregateID string, payload any) error {
	e, err := New(source, eventType, aggregateID, payload)
	if err != nil {
		return err
	}
	return AppendEvent(ctx, db, e)
}

// The outbox's inserts: an event with its deliveries (fanned out on
// write), and one the relay fans out.
const (
	appendFannedOut = db.Statement(`WITH o AS (
			INSERT INTO event_outbox (id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state, fanned_out_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING seq)
		INSERT INTO event_deliveries (event_seq, subscriber, aggregate_id)
		SELECT o.seq, s.subscriber, $3 FROM o, unnest($9::text[]) AS s(subscriber)`)
	appendUnfanned = db.Statement(`INSERT INTO event_outbox (id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
)

// AppendEvent writes a built event to the outbox, with the trace context
// of ctx unless the event carries one. In a transaction run by InTx, the
// module's relay is woken once it commits, and with PostgreSQL as the bus
// the event's deliveries are written with it, in the same statement (see
// Wake.FanOutOnWrite), and an event nobody subscribes to wakes nothing; on
// the DB itself (the insert commits alone), the relay is woken at once and
// fans the event out.
func AppendEvent(ctx context.Context, db bun.IDB, e Event) error {
	if e.TraceParent == "" {
		e.TraceParent, e.TraceState = traceContextOf(ctx)
	}
	var err error
	if subscribers, ok := fanOutOnWrite(ctx, db, e.Type); ok {
		wakeCtx := markAppend(ctx, db)
		if len(subscribers) == 0 {
			wakeCtx = ctx // nothing to deliver: the relay has nothing to do for it
		}
		_, err = appendFannedOut.Exec(wakeCtx, db, e.ID, e.Type, e.AggregateID, e.Source, string(e.Payload), e.OccurredAt,
			e.TraceParent, e.TraceState, subscribers)
	} else {
		_, err = appendUnfanned.Exec(markAppend(ctx, db), db, e.ID, e.Type, e.AggregateID, e.Source, string(e.Payload),
			e.OccurredAt, e.TraceParent, e.TraceState)
	}
	if err != nil {
		return fmt.Errorf("append %s to outbox: %w", e.Type, err)
	}
	return nil
}
