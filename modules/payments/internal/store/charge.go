package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
	"mitosis/platform/db"
)

// ChargeState is what a charge key already stands for: the payment made
// with it, if any, and whether it was voided.
type ChargeState struct {
	Payment *payments.Payment
	Voided  bool
}

const chargeByKey = db.Statement(`SELECT p.id, p.user_id, p.order_id, p.amount_cents, p.status, p.created_at, p.refunded_at,
		EXISTS (SELECT 1 FROM voided_charges WHERE charge_key = $1) AS voided
	FROM (VALUES (1)) AS one (x) LEFT JOIN payments p ON p.idempotency_key = $1`)

// ChargeByKey reads, in one statement, the payment made with a charge key
// and whether the key was voided; under the key's lock (LockChargeKey),
// neither changes until the transaction ends.
func ChargeByKey(ctx context.Context, db bun.IDB, key string) (ChargeState, error) {
	var row struct {
		ID          *string    `bun:"id"`
		UserID      *string    `bun:"user_id"`
		OrderID     *string    `bun:"order_id"`
		AmountCents *int64     `bun:"amount_cents"`
		Status      *string    `bun:"status"`
		CreatedAt   *time.Time `bun:"created_at"`
		RefundedAt  *time.Time `bun:"refunded_at"`
		Voided      bool       `bun:"voided"`
	}
	err := chargeByKey.Scan(ctx, db, &row, key)
	if err != nil {
		return ChargeState{}, fmt.Errorf("read charge key: %w", err)
	}
	out := ChargeState{Voided: row.Voided}
	if row.ID != nil {
		p := paymentRow{ID: *row.ID, UserID: *row.UserID, OrderID: *row.OrderID, AmountCents: *row.AmountCents,
			Status: *row.Status, CreatedAt: *row.CreatedAt, RefundedAt: row.RefundedAt}.toPayment()
		out.Payment = &p
	}
	return out, nil
}

const capture = db.Statement(`WITH debit AS (
		UPDATE wallets SET balance_cents = balance_cents - $1::bigint, updated_at = now()
		WHERE user_id = $2 AND balance_cents - $1::bigint >= 0 RETURNING user_id),
	paid AS (
		INSERT INTO payments (id, user_id, order_id, amount_cents, status, idempotency_key, created_at)
		SELECT $3::uuid, user_id, $4::uuid, $1::bigint, $5::text, $6::text, $7::timestamptz FROM debit RETURNING id, user_id)
	INSERT INTO ledger_entries (user_id, kind, amount_cents, payment_id)
	SELECT user_id, $8::text, -$1::bigint, id FROM paid`)

// Capture debits the wallet by the payment's amount, stores the captured
// payment (made with key) and its ledger entry, in one statement; nothing
// is written, and ErrInsufficientFunds returned, when the balance would go
// below zero or there is no wallet. The debit comes first: the payment row
// references the wallet, and the ledger entry the payment.
func Capture(ctx context.Context, db bun.IDB, p payments.Payment, key string) error {
	res, err := capture.Exec(ctx, db, p.AmountCents, p.UserID, p.ID, p.OrderID, p.Status, key, p.CreatedAt, KindCharge)
	if err != nil {
		return fmt.Errorf("capture payment: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errorOr(err, payments.ErrInsufficientFunds)
	}
	return nil
}

func errorOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
