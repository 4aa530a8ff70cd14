package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
	"mitosis/platform/events"
)

// Store reads and writes the payments schema.
type Store struct{ db *bun.DB }

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// InTx runs fn in one transaction: the only place the store opens one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return events.InTx(ctx, s.db, fn)
}

// OpenWallet creates the wallet if missing.
func OpenWallet(ctx context.Context, db bun.IDB, userID string) error {
	_, err := db.NewRaw("INSERT INTO wallets (user_id) VALUES (?) ON CONFLICT DO NOTHING", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("open wallet: %w", err)
	}
	return nil
}

// Balance returns the wallet balance; 0 if there is no wallet.
func Balance(ctx context.Context, db bun.IDB, userID string) (int64, error) {
	var balance int64
	err := db.NewRaw("SELECT balance_cents FROM wallets WHERE user_id = ?", userID).Scan(ctx, &balance)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read balance: %w", err)
	}
	return balance, nil
}

// Adjust changes the balance by delta and records the ledger entry. A debit
// that would go below zero changes nothing and returns ErrInsufficientFunds;
// the conditional update makes that safe under concurrent charges.
func Adjust(ctx context.Context, db bun.IDB, entry LedgerEntry) (int64, error) {
	balance, err := Move(ctx, db, entry.UserID, entry.AmountCents)
	if err != nil {
		return 0, err
	}
	return balance, Enter(ctx, db, entry)
}

// Move changes the balance by delta, unless that would take it below zero
// or there is no wallet (a balance of zero): then ErrInsufficientFunds for
// a debit. The caller records the ledger entry (Enter) in the same
// transaction.
func Move(ctx context.Context, db bun.IDB, userID string, delta int64) (int64, error) {
	var balance int64
	err := db.NewRaw(`UPDATE wallets SET balance_cents = balance_cents + ?, updated_at = now()
		WHERE user_id = ? AND balance_cents + ? >= 0 RETURNING balance_cents`,
		delta, userID, delta).Scan(ctx, &balance)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, payments.ErrInsufficientFunds
	}
	if err != nil {
		return 0, fmt.Errorf("adjust balance: %w", err)
	}
	return balance, nil
}

// Enter records a ledger entry of a balance already moved.
func Enter(ctx context.Context, db bun.IDB, entry LedgerEntry) error {
	row := ledgerRow{UserID: entry.UserID, Kind: entry.Kind, AmountCents: entry.AmountCents,
		PaymentID: nonEmpty(entry.PaymentID), IdempotencyKey: nonEmpty(entry.IdempotencyKey)}
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert ledger entry: %w", err)
	}
	return nil
}

// LedgerEntry is one balance change.
type LedgerEntry struct {
	UserID         string
	Kind           string
	AmountCents    int64 // positive credits, negative debits
	PaymentID      string
	IdempotencyKey string
}

// DepositByKey returns the amount of the user's deposit made with key, if any.
func DepositByKey(ctx context.Context, db bun.IDB, userID, key string) (amount int64, found bool, err error) {
	var row ledgerRow
	err = db.NewSelect().Model(&row).Where("user_id = ? AND idempotency_key = ?", userID, key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find deposit: %w", err)
	}
	if row.Kind != KindDeposit {
		return 0, true, payments.ErrIdempotencyConflict
	}
	return row.AmountCents, true, nil
}

// PaymentByKey finds the payment made with an idempotency key.
func PaymentByKey(ctx context.Context, db bun.IDB, key string) (payments.Payment, error) {
	var row paymentRow
	err := db.NewSelect().Model(&row).Where("idempotency_key = ?", key).Scan(ctx)
	return foundPayment(row, err)
}

// PaymentOf finds a user's payment; with lock, it is held for update.
func PaymentOf(ctx context.Context, db bun.IDB, userID, paymentID string, lock bool) (payments.Payment, error) {
	var row paymentRow
	q := db.NewSelect().Model(&row).Where("id = ? AND user_id = ?", paymentID, userID)
	if lock {
		q = q.For("UPDATE")
	}
	return foundPayment(row, q.Scan(ctx))
}

// MarkRefunded moves a payment to refunded.
func MarkRefunded(ctx context.Context, db bun.IDB, paymentID string, at time.Time) error {
	_, err := db.NewUpdate().Model((*paymentRow)(nil)).
		Set("status = ?", payments.StatusRefunded).Set("refunded_at = ?", at).
		Where("id = ? AND status = ?", paymentID, payments.StatusCaptured).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark refunded: %w", err)
	}
	return nil
}

// ListPayments returns a user's payments, newest first.
func (s *Store) ListPayments(ctx context.Context, userID, orderID string) ([]payments.Payment, error) {
	var rows []paymentRow
	q := s.db.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("created_at DESC, id DESC").Limit(500)
	if orderID != "" {
		q = q.Where("order_id = ?", orderID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	out := make([]payments.Payment, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toPayment())
	}
	return out, nil
}

// DB is the module's connection, for the store's functions outside a
// transaction.
func (s *Store) DB() bun.IDB { return s.db }

func foundPayment(row paymentRow, err error) (payments.Payment, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return payments.Payment{}, payments.ErrNotFound
	}
	if err != nil {
		return payments.Payment{}, fmt.Errorf("select payment: %w", err)
	}
	return row.toPayment(), nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
