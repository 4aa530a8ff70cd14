package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
	"mitosis/platform/db"
)

const lockChargeKey = db.Statement("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")

// LockChargeKey serialises, until the transaction ends, every charge and
// void of one key: without it a charge and a void of the same key could
// both miss each other and both commit.
func LockChargeKey(ctx context.Context, db bun.IDB, key string) error {
	if _, err := lockChargeKey.Exec(ctx, db, key); err != nil {
		return fmt.Errorf("lock charge key: %w", err)
	}
	return nil
}

// Void records a charge key as voided, once, and returns when it was voided
// and by which user.
func Void(ctx context.Context, db bun.IDB, key, userID string, at time.Time) (time.Time, string, error) {
	var row struct {
		VoidedAt time.Time `bun:"voided_at"`
		UserID   string    `bun:"user_id"`
	}
	err := db.NewRaw(`WITH ins AS (
			INSERT INTO voided_charges (charge_key, user_id, voided_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING voided_at, user_id)
		SELECT voided_at, user_id FROM ins
		UNION ALL SELECT voided_at, user_id FROM voided_charges WHERE charge_key = ?`,
		key, userID, at, key).Scan(ctx, &row)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("void charge: %w", err)
	}
	return row.VoidedAt.UTC(), row.UserID, nil
}

// RefundByKey finds the payment a user refunded with an idempotency key.
// A key used for something else than a refund is ErrIdempotencyConflict.
func RefundByKey(ctx context.Context, db bun.IDB, userID, key string) (paymentID string, found bool, err error) {
	var row ledgerRow
	err = db.NewSelect().Model(&row).Where("user_id = ? AND idempotency_key = ?", userID, key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find refund: %w", err)
	}
	if row.Kind != KindRefund || row.PaymentID == nil {
		return "", true, payments.ErrIdempotencyConflict
	}
	return *row.PaymentID, true, nil
}
