package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/uptrace/bun"

	"mitosis/modules/users"
	"mitosis/platform/db"
)

// Stats returns a customer's order statistics (zero before any order).
func (s *Store) Stats(ctx context.Context, userID string) (users.OrderStats, error) {
	var out users.OrderStats
	err := s.db.NewRaw("SELECT orders_confirmed, total_spent_cents FROM order_stats WHERE user_id = ?", userID).
		Scan(ctx, &out.OrdersConfirmed, &out.TotalSpentCents)
	if errors.Is(err, sql.ErrNoRows) {
		return users.OrderStats{}, nil
	}
	if err != nil {
		return users.OrderStats{}, fmt.Errorf("read order stats: %w", err)
	}
	return out, nil
}

const addOrderStats = db.Statement(`INSERT INTO order_stats (user_id, orders_confirmed, total_spent_cents) VALUES ($1, $2, $3)
	ON CONFLICT (user_id) DO UPDATE SET orders_confirmed = order_stats.orders_confirmed + EXCLUDED.orders_confirmed,
		total_spent_cents = order_stats.total_spent_cents + EXCLUDED.total_spent_cents, updated_at = now()`)

// AddOrderStats adds orders and cents (negative to take back) to the
// user's order statistics, inside the caller's transaction.
func AddOrderStats(ctx context.Context, tx bun.IDB, userID string, orders int, cents int64) error {
	_, err := addOrderStats.Exec(ctx, tx, userID, orders, cents)
	if err != nil {
		return fmt.Errorf("update order stats: %w", err)
	}
	return nil
}

// StatsChange is what one event adds to a user's order statistics.
type StatsChange struct {
	UserID string
	Orders int
	Cents  int64
}

const addOrderStatsBatch = db.Statement(`INSERT INTO order_stats (user_id, orders_confirmed, total_spent_cents)
	SELECT * FROM unnest($1::uuid[], $2::int[], $3::bigint[])
	ON CONFLICT (user_id) DO UPDATE SET orders_confirmed = order_stats.orders_confirmed + EXCLUDED.orders_confirmed,
		total_spent_cents = order_stats.total_spent_cents + EXCLUDED.total_spent_cents, updated_at = now()`)

// AddOrderStatsBatch adds every change, summed per user, in one statement
// inside the caller's transaction: the effect of AddOrderStats for each in
// turn. Users go in id order, so two batches lock their rows in one order.
func AddOrderStatsBatch(ctx context.Context, tx bun.IDB, changes []StatsChange) error {
	if len(changes) == 0 {
		return nil
	}
	sums := map[string]StatsChange{}
	for _, c := range changes {
		s := sums[c.UserID]
		s.UserID, s.Orders, s.Cents = c.UserID, s.Orders+c.Orders, s.Cents+c.Cents
		sums[c.UserID] = s
	}
	ids := slices.Sorted(maps.Keys(sums))
	orders, cents := make([]int, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		orders[i], cents[i] = sums[id].Orders, sums[id].Cents
	}
	_, err := addOrderStatsBatch.Exec(ctx, tx, ids, orders, cents)
	if err != nil {
		return fmt.Errorf("update order stats: %w", err)
	}
	return nil
}
