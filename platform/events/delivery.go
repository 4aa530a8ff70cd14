package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"mitosis/platform/db"
)

type due struct {
	Seq        int64  `bun:"seq"`
	Subscriber string `bun:"subscriber"`
	Attempts   int    `bun:"attempts"`
	// More: a later delivery of the same aggregate to the same subscriber
	// was pending at the claim, held back by this one.
	More bool `bun:"more"`
	Event
}

// deliverBatch claims due deliveries whose aggregate has no earlier pending
// delivery to the same subscriber, nor an earlier event not fanned out yet
// (one written where no Wake fanned it out on write, see FanOutOnWrite),
// skipping rows another relay holds, hands
// each subscriber its share at once and records the outcomes in the same
// transaction. A claimed batch holds at most one event per aggregate and
// subscriber, so its events may be applied together in any order. more
// reports that the round should go again at once: the batch was full, or
// a delivery it held back (the next of an aggregate) becomes due with its
// commit, when no commit to the outbox is left to wake the relay for it.
func (r *Relay) deliverBatch(ctx context.Context) (n int, more bool, err error) {
	err = relayTx(ctx, r.db, func(ctx context.Context, tx bun.Tx) error {
		var batch []due
		// The claim first, on the deliveries alone (event_deliveries_due_idx
		// in order, each checked on the pending index), then the events of
		// the rows claimed: joined in one query, the planner reads the outbox
		// from its start.
		err := tx.NewRaw(`WITH claimed AS (
				SELECT d.event_seq, d.subscriber, d.attempts, d.aggregate_id FROM event_deliveries d
				WHERE d.status = 'pending' AND d.next_attempt_at <= now()
				  AND NOT EXISTS (SELECT 1 FROM event_deliveries e
					WHERE e.subscriber = d.subscriber AND e.aggregate_id = d.aggregate_id
					  AND e.status = 'pending' AND e.event_seq < d.event_seq)
				  AND NOT EXISTS (SELECT 1 FROM event_outbox u
					WHERE u.fanned_out_at IS NULL AND u.seq < d.event_seq AND u.aggregate_id = d.aggregate_id)
				ORDER BY d.event_seq
				LIMIT ?
				FOR UPDATE SKIP LOCKED)
			SELECT c.event_seq AS seq, c.subscriber, c.attempts,
				EXISTS (SELECT 1 FROM event_deliveries e
					WHERE e.subscriber = c.subscriber AND e.aggregate_id = c.aggregate_id
					  AND e.status = 'pending' AND e.event_seq > c.event_seq) AS more,
				o.id, o.type, o.aggregate_id, o.source, o.payload, o.occurred_at, o.trace_parent, o.trace_state
			FROM claimed c JOIN event_outbox o ON o.seq = c.event_seq
			ORDER BY c.event_seq`, r.cfg.BatchSize).Scan(ctx, &batch)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		n, more = len(batch), len(batch) == r.cfg.BatchSize
		for _, d := range batch {
			more = more || d.More
		}
		for _, group := range groups(batch) {
			if err := r.attempt(ctx, tx, group); err != nil {
				return err
			}
		}
		return nil
	})
	return n, more, err
}

// groups splits a claimed batch into what goes to a subscriber at once, in
// outbox order: its first attempts together, and apart from them its
// retries, so that an event known to fail does not make the others of a
// fresh batch fall back to one at a time (see Bus.DeliverBatch).
func groups(batch []due) [][]due {
	type key struct {
		subscriber string
		retry      bool
	}
	var order []key
	by := map[key][]due{}
	for _, d := range batch {
		k := key{d.Subscriber, d.Attempts > 0}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], d)
	}
	out := make([][]due, 0, len(order))
	for _, k := range order {
		out = append(out, by[k])
	}
	return out
}

const markDelivered = db.Statement(`UPDATE event_deliveries SET status = 'delivered', attempts = attempts + 1,
	delivered_at = now(), last_error = NULL WHERE subscriber = $1 AND event_seq = ANY($2::bigint[])`)

// attempt delivers one subscriber's group and records each outcome: the
// delivered in one statement, each failure as a retry or a dead letter.
func (r *Relay) attempt(ctx context.Context, tx bun.Tx, group []due) error {
	sub := group[0].Subscriber
	start := time.Now()
	errs := r.deliverTraced(ctx, sub, group)
	var delivered []int64
	for i, d := range group {
		derr := errs[i]
		if derr == nil || ctx.Err() == nil { // a delivery cut by shutdown says nothing of the subscriber
			r.metrics.observed(r.module, sub, start, derr)
		}
		if derr == nil {
			delivered = append(delivered, d.Seq)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: this attempt does not count
		}
		if err := r.failed(ctx, tx, d, derr); err != nil {
			return err
		}
	}
	if len(delivered) == 0 {
		return nil
	}
	r.throttle.Resolved(ctx, "delivery:"+sub, "event deliveries recovered", "subscriber", sub)
	_, err := markDelivered.Exec(ctx, tx, sub, delivered)
	return wrap(err)
}

// failed records a failed attempt of d: a retry after a backoff, or, at
// EVENTS_MAX_ATTEMPTS, a dead letter.
func (r *Relay) failed(ctx context.Context, tx bun.Tx, d due, derr error) error {
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
