package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/platform/db"
	"mitosis/platform/events"
)

// OrderState is what settling an order reads of it.
type OrderState struct {
	Status     string `bun:"status"`
	CustomerID string `bun:"customer_id"`
	TotalCents int64  `bun:"total_cents"`
}

const settleOrder = db.Statement(`WITH cur AS (SELECT id, status, customer_id, total_cents FROM orders WHERE id = $1 FOR UPDATE),
	moved AS (
		UPDATE orders SET status = $2, updated_at = $3,
			payment_id = coalesce($4, orders.payment_id), failure_reason = coalesce($5, orders.failure_reason)
		FROM cur WHERE orders.id = cur.id AND cur.status <> ALL($6::text[])
		RETURNING orders.id)
	SELECT cur.status, cur.customer_id, cur.total_cents, EXISTS (SELECT 1 FROM moved) AS moved FROM cur`)

// SettleOrder moves the order to status as of at, with its payment and
// failure reason when not nil, unless its status is one of unless; in one
// statement, which locks the order's row until the end of the transaction
// db is. It returns the order's state before, and whether it moved.
func SettleOrder(ctx context.Context, db bun.IDB, orderID, status string, at time.Time, paymentID, reason *string,
	unless ...string) (OrderState, bool, error) {
	var row struct {
		OrderState
		Moved bool `bun:"moved"`
	}
	err := settleOrder.Scan(ctx, db, &row, orderID, status, at, paymentID, reason, unless)
	if err != nil {
		return OrderState{}, false, fmt.Errorf("settle order: %w", err)
	}
	return row.OrderState, row.Moved, nil
}

// Publish appends one of orders' events to its outbox, inside db's
// transaction.
func Publish(ctx context.Context, db bun.IDB, eventType, orderID string, payload any) error {
	return events.Append(ctx, db, "orders", eventType, orderID, payload)
}
