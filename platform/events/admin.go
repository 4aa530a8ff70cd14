package events

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Lag is the delivery state of one subscriber of a module's outbox.
type Lag struct {
	Subscriber    string    `bun:"subscriber"`
	Pending       int       `bun:"pending"`
	OldestPending time.Time `bun:"oldest_pending"` // zero when nothing is pending
	Dead          int       `bun:"dead"`
}

// Status reports the lag of every subscriber of the outbox on db, and how
// many events are not yet fanned out (with a broker: not yet published).
// With a broker, the module's own dead letters as a subscriber count too,
// under its own name; their pending ones are replays on their way.
func Status(ctx context.Context, db bun.IDB) (lags []Lag, unfanned int, err error) {
	err = db.NewRaw(`SELECT d.subscriber,
			count(*) FILTER (WHERE d.status = 'pending') AS pending,
			coalesce(min(o.occurred_at) FILTER (WHERE d.status = 'pending'), 'epoch') AS oldest_pending,
			count(*) FILTER (WHERE d.status = 'dead') AS dead
		FROM event_deliveries d JOIN event_outbox o ON o.seq = d.event_seq
		WHERE d.status <> 'delivered'
		GROUP BY d.subscriber
		UNION ALL
		SELECT subscriber, count(*) FILTER (WHERE status = 'pending'),
			coalesce(min(occurred_at) FILTER (WHERE status = 'pending'), 'epoch'),
			count(*) FILTER (WHERE status = 'dead')
		FROM event_dead_letters GROUP BY subscriber
		ORDER BY subscriber`).Scan(ctx, &lags)
	if err != nil {
		return nil, 0, fmt.Errorf("outbox status: %w", err)
	}
	for i := range lags {
		if lags[i].OldestPending.Equal(time.Unix(0, 0)) {
			lags[i].OldestPending = time.Time{}
		}
	}
	if err := db.NewRaw("SELECT count(*) FROM event_outbox WHERE fanned_out_at IS NULL").Scan(ctx, &unfanned); err != nil {
		return nil, 0, fmt.Errorf("outbox status: %w", err)
	}
	return lags, unfanned, nil
}

// DeadLetter is a delivery that gave up.
type DeadLetter struct {
	Event
	Subscriber string `bun:"subscriber"`
	Attempts   int    `bun:"attempts"`
	LastError  string `bun:"last_error"`
}

// DeadLetters lists the dead deliveries of the outbox on db (PostgreSQL
// bus), then the events the module gave up on as a subscriber (broker),
// oldest first.
func DeadLetters(ctx context.Context, db bun.IDB) ([]DeadLetter, error) {
	return deadLetters(ctx, db, 0)
}

// deadLetters is DeadLetters, the first limit of them (0: all).
func deadLetters(ctx context.Context, db bun.IDB, limit int) ([]DeadLetter, error) {
	query := `SELECT id, type, aggregate_id, source, payload, occurred_at, subscriber, attempts, last_error FROM (
		SELECT 1 AS kind, d.event_seq AS seq, o.id, o.type, o.aggregate_id, o.source, o.payload, o.occurred_at,
			d.subscriber, d.attempts, coalesce(d.last_error, '') AS last_error
		FROM event_deliveries d JOIN event_outbox o ON o.seq = d.event_seq
		WHERE d.status = 'dead'
		UNION ALL
		SELECT 2, 0, event_id, type, aggregate_id, source, payload, occurred_at, subscriber, attempts, last_error
		FROM event_dead_letters WHERE status = 'dead') dl
		ORDER BY kind, seq, occurred_at, subscriber`
	var args []any
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	var out []DeadLetter
	if err := db.NewRaw(query, args...).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// Replay puts dead deliveries back in line with fresh attempts: those of
// the event with id, or every one when id is empty. It returns how many.
// A subscriber's own dead letters (broker) turn pending, and its consumer
// puts them back on the stream.
func Replay(ctx context.Context, db bun.IDB, id string) (int, error) {
	n, err := replayDeliveries(ctx, db, id)
	if err != nil {
		return 0, err
	}
	q := "UPDATE event_dead_letters SET status = 'pending' WHERE status = 'dead'"
	args := []any{}
	if id != "" {
		q += " AND event_id = ?"
		args = append(args, id)
	}
	res, err := db.NewRaw(q, args...).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	m, err := res.RowsAffected()
	return n + int(m), err
}

func replayDeliveries(ctx context.Context, db bun.IDB, id string) (int, error) {
	q := `UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
		WHERE status = 'dead'`
	args := []any{}
	if id != "" {
		q += " AND event_seq IN (SELECT seq FROM event_outbox WHERE id = ?)"
		args = append(args, id)
	}
	res, err := db.NewRaw(q, args...).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
