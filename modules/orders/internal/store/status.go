package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/platform/events"
)

// OrderState is what settling an order reads of it.
type OrderState struct {
	Status     string
	CustomerID string
	TotalCents int64
}

// LockOrder reads the order's state and locks its row until the end of
// the transaction db is.
func LockOrder(ctx context.Context, db bun.IDB, orderID string) (OrderState, error) {
	var row orderRow
	err := db.NewSelect().Model(&row).Column("status", "customer_id", "total_cents").
		Where("id = ?", orderID).For("UPDATE").Scan(ctx)
	if err != nil {
		return OrderState{}, fmt.Errorf("lock order: %w", err)
	}
	return OrderState{Status: row.Status, CustomerID: row.CustomerID, TotalCents: row.TotalCents}, nil
}

// SetStatus moves the order to status as of at, with its payment and
// failure reason when not nil.
func SetStatus(ctx context.Context, db bun.IDB, orderID, status string, at time.Time, paymentID, reason *string) error {
	q := db.NewUpdate().Model((*orderRow)(nil)).
		Set("status = ?", status).Set("updated_at = ?", at).Where("id = ?", orderID)
	if paymentID != nil {
		q = q.Set("payment_id = ?", *paymentID)
	}
	if reason != nil {
		q = q.Set("failure_reason = ?", *reason)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("set order status: %w", err)
	}
	return nil
}

// Publish appends one of orders' events to its outbox, inside db's
// transaction.
func Publish(ctx context.Context, db bun.IDB, eventType, orderID string, payload any) error {
	return events.Append(ctx, db, "orders", eventType, orderID, payload)
}
