package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
)

// ChargeState is what a charge key already stands for: the payment made
// with it, if any, and whether it was voided.
type ChargeState struct {
	Payment *payments.Payment
	Voided  bool
}

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
	err := db.NewRaw(`SELECT p.id, p.user_id, p.order_id, p.amount_cents, p.status, p.created_at, p.refunded_at,
			EXISTS (SELECT 1 FROM voided_charges WHERE charge_key = ?) AS voided
		FROM (VALUES (1)) AS one (x) LEFT JOIN payments p ON p.idempotency_key = ?`, key, key).Scan(ctx, &row)
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

// Capture debits the wallet by the payment's amount, stores the captured
// payment (made with key) and its ledger entry, in one statement; nothing
// is written, and ErrInsufficientFunds returned, when the balance would go
// below zero or there is no wallet. The debit comes first: the payment row
// references the wallet, and the ledger entry the payment.
func Capture(ctx context.Context, db bun.IDB, p payments.Payment, key string) error {
	res, err := db.NewRaw(`WITH debit AS (
			UPDATE wallets SET balance_cents = balance_cents - ?, updated_at = now()
			WHERE user_id = ? AND balance_cents - ? >= 0 RETURNING user_id),
		paid AS (
			INSERT INTO payments (id, user_id, order_id, amount_cents, status, idempotency_key, created_at)
			SELECT ?, user_id, ?, ?, ?, ?, ? FROM debit RETURNING id, user_id)
		INSERT INTO ledger_entries (user_id, kind, amount_cents, payment_id)
		SELECT user_id, ?, ?, id FROM paid`,
		p.AmountCents, p.UserID, p.AmountCents,
		p.ID, p.OrderID, p.AmountCents, p.Status, key, p.CreatedAt,
		KindCharge, -p.AmountCents).Exec(ctx)
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
