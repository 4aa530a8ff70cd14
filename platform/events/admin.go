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
// many events are not yet fanned out.
func Status(ctx context.Context, db bun.IDB) (lags []Lag, unfanned int, err error) {
	err = db.NewRaw(`SELECT d.subscriber,
			count(*) FILTER (WHERE d.status = 'pending') AS pending,
			coalesce(min(o.occurred_at) FILTER (WHERE d.status = 'pending'), 'epoch') AS oldest_pending,
			count(*) FILTER (WHERE d.status = 'dead') AS dead
		FROM event_deliveries d JOIN event_outbox o ON o.seq = d.event_seq
		WHERE d.status <> 'delivered'
		GROUP BY d.subscriber ORDER BY d.subscriber`).Scan(ctx, &lags)
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

// DeadLetters lists the dead deliveries of the outbox on db, oldest first.
func DeadLetters(ctx context.Context, db bun.IDB) ([]DeadLetter, error) {
	var out []DeadLetter
	err := db.NewRaw(`SELECT o.id, o.type, o.aggregate_id, o.source, o.payload, o.occurred_at,
			d.subscriber, d.attempts, coalesce(d.last_error, '') AS last_error
		FROM event_deliveries d JOIN event_outbox o ON o.seq = d.event_seq
		WHERE d.status = 'dead' ORDER BY d.event_seq, d.subscriber`).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// Replay puts dead deliveries back in line with fresh attempts: those of
// the event with id, or every one when id is empty. It returns how many.
func Replay(ctx context.Context, db bun.IDB, id string) (int, error) {
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
