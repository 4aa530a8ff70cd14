// Package store reads and writes the payments schema (wallets, payments,
// ledger entries): bun rows beside their converters, and the statements the
// domain asks for. It persists what it is told; the domain (internal/app)
// decides.
package store

import (
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
)

type paymentRow struct {
	bun.BaseModel `bun:"table:payments"`

	ID             string     `bun:"id,pk"`
	UserID         string     `bun:"user_id"`
	OrderID        string     `bun:"order_id"`
	AmountCents    int64      `bun:"amount_cents"`
	Status         string     `bun:"status"`
	IdempotencyKey string     `bun:"idempotency_key"`
	CreatedAt      time.Time  `bun:"created_at"`
	RefundedAt     *time.Time `bun:"refunded_at"`
}

type ledgerRow struct {
	bun.BaseModel `bun:"table:ledger_entries"`

	ID             int64   `bun:"id,pk,autoincrement"`
	UserID         string  `bun:"user_id"`
	Kind           string  `bun:"kind"`
	AmountCents    int64   `bun:"amount_cents"`
	PaymentID      *string `bun:"payment_id"`
	IdempotencyKey *string `bun:"idempotency_key"`
}

func (r paymentRow) toPayment() payments.Payment {
	p := payments.Payment{
		ID: r.ID, UserID: r.UserID, OrderID: r.OrderID, AmountCents: r.AmountCents,
		Status: r.Status, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.RefundedAt != nil {
		t := r.RefundedAt.UTC()
		p.RefundedAt = &t
	}
	return p
}

// Ledger entry kinds.
const (
	KindDeposit = "deposit"
	KindCharge  = "charge"
	KindRefund  = "refund"
)
