package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// outbox is the app's bus, measured from SQL alone: events are written
// into orders' outbox with their deliveries, as orders writes them (the
// app's relay reads nothing else), and the running app delivers them to
// users. An event's key is its
// outbox seq; its publisher's commit is that of the inserting transaction
// (the outbox row itself is updated later, on fan-out, so its xmin no
// longer tells); its effect is the commit of users' inbox transaction,
// which also updated order_stats.
type outbox struct {
	pool     *pgxpool.Pool
	mu       sync.Mutex
	xids     map[string]string // outbox seq → the publishing transaction (xid8)
	statsSum int64             // users.order_stats total before
	sent     int
}

// The payload as orders.OrderConfirmed marshals it, for one of eight
// customers (the bench's clients); users' handler adds it to order_stats.
// Each with its delivery to users, as orders writes them (fanned out on
// write: platform/events' AppendEvent in the app's InTx).
const outboxInsert = `WITH o AS (
	INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at, fanned_out_at)
	SELECT e.id, 'order.confirmed', e.order_id::text, 'orders',
		jsonb_build_object('order_id', e.order_id, 'customer_id', e.customer_id, 'total_cents', 3670, 'payment_id', e.payment_id), now(), now()
	FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS order_id, gen_random_uuid() AS payment_id,
		('00000000-0000-7000-8000-' || (100000000001 + g % 8))::uuid AS customer_id FROM generate_series(1, $1) g) e
	RETURNING seq, aggregate_id),
d AS (INSERT INTO orders.event_deliveries (event_seq, subscriber, aggregate_id) SELECT seq, 'users', aggregate_id FROM o)
SELECT seq, pg_current_xact_id()::text FROM o`

// orderTotalCents is the total_cents of every published event.
const orderTotalCents = 3670

func (b *outbox) open(ctx context.Context) error {
	b.xids = map[string]string{}
	return b.pool.QueryRow(ctx, "SELECT coalesce(sum(total_spent_cents), 0) FROM users.order_stats").Scan(&b.statsSum)
}

func (b *outbox) subscribe(context.Context) error { return nil }

func (b *outbox) close() {}

func (b *outbox) publish(ctx context.Context, n int) ([]string, error) {
	rows, err := b.pool.Query(ctx, outboxInsert, n)
	if err != nil {
		return nil, fmt.Errorf("insert into orders.event_outbox: %w", err)
	}
	defer rows.Close()
	keys := make([]string, 0, n)
	pairs := map[string]string{}
	for rows.Next() {
		var seq int64
		var xid string
		if err := rows.Scan(&seq, &xid); err != nil {
			return nil, fmt.Errorf("insert into orders.event_outbox: %w", err)
		}
		k := strconv.FormatInt(seq, 10)
		keys = append(keys, k)
		pairs[k] = xid
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert into orders.event_outbox: %w", err)
	}
	b.record(pairs)
	return keys, nil
}

// record is publish's bookkeeping, serialised: publishes run concurrently.
func (b *outbox) record(pairs map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, x := range pairs {
		b.xids[k] = x
	}
	b.sent += len(pairs)
}

func (b *outbox) effects(ctx context.Context, keys []string, stall time.Duration) (map[string]span, error) {
	seqs := make([]int64, len(keys))
	xids := make([]string, len(keys))
	for i, k := range keys {
		seqs[i], _ = strconv.ParseInt(k, 10, 64)
		xids[i] = b.xids[k]
	}
	// Waiting reads what the relay has left (two partial indexes), not the
	// keys joined with the inbox: that join, every 100 ms over a backlog of
	// thousands, took PostgreSQL's CPU from the bus it measures. Once
	// nothing is left, every key must be in users' inbox.
	const left = `SELECT (SELECT count(*) FROM orders.event_outbox WHERE fanned_out_at IS NULL) +
		(SELECT count(*) FROM orders.event_deliveries WHERE status = 'pending')`
	if err := waitFor(ctx, len(keys), stall, func(ctx context.Context) (int, error) {
		var n int
		err := b.pool.QueryRow(ctx, left).Scan(&n)
		return len(keys) - min(n, len(keys)), err
	}); err != nil {
		return nil, fmt.Errorf("orders' relay: %w", err)
	}
	const delivered = `SELECT count(*) FROM unnest($1::bigint[]) AS s(seq)
		JOIN orders.event_outbox o ON o.seq = s.seq JOIN users.event_inbox i ON i.event_id = o.id`
	var n int
	if err := b.pool.QueryRow(ctx, delivered, seqs).Scan(&n); err != nil {
		return nil, fmt.Errorf("users' inbox: %w", err)
	}
	if n != len(keys) {
		return nil, fmt.Errorf("%d of %d events in users' inbox once orders' relay had nothing left (dead letters?)", n, len(keys))
	}
	rows, err := b.pool.Query(ctx, `SELECT s.seq, pg_xact_commit_timestamp(xid(s.x::xid8)), pg_xact_commit_timestamp(i.xmin)
		FROM unnest($1::bigint[], $2::text[]) AS s(seq, x)
		JOIN orders.event_outbox o ON o.seq = s.seq JOIN users.event_inbox i ON i.event_id = o.id`, seqs, xids)
	if err != nil {
		return nil, fmt.Errorf("commit timestamps: %w", err)
	}
	defer rows.Close()
	out := make(map[string]span, len(keys))
	for rows.Next() {
		var seq int64
		var s span
		if err := rows.Scan(&seq, &s.published, &s.effect); err != nil {
			return nil, fmt.Errorf("commit timestamps: %w", err)
		}
		out[strconv.FormatInt(seq, 10)] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("commit timestamps: %w", err)
	}
	// Every event had its effect exactly once: the read model moved by
	// the events' totals, no more (the inbox key already bars a second
	// inbox row).
	var sum int64
	if err := b.pool.QueryRow(ctx, "SELECT coalesce(sum(total_spent_cents), 0) FROM users.order_stats").Scan(&sum); err != nil {
		return nil, fmt.Errorf("read order_stats: %w", err)
	}
	if want := b.statsSum + int64(b.sent)*orderTotalCents; sum != want {
		return nil, fmt.Errorf("users.order_stats total is %d, want %d: an event was applied twice or not at all", sum, want)
	}
	return out, nil
}
