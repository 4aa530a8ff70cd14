// Package payments is the contract of the payments module: a wallet per
// user in integer cents, charges against it and refunds. Every balance
// change is a ledger entry.
package payments

import (
	"context"
	"net/http"
	"time"

	"mitosis/platform/problem"
)

// Service is what other modules and the HTTP API may ask of payments.
type Service interface {
	// Deposit adds money to the user's wallet, opening it if needed.
	Deposit(ctx context.Context, in DepositRequest) (Wallet, error)
	// GetWallet returns the user's balance (zero if no wallet yet).
	GetWallet(ctx context.Context, in WalletRequest) (Wallet, error)
	// Charge takes money for an order; ErrInsufficientFunds if the balance
	// is short. The same IdempotencyKey never charges twice.
	Charge(ctx context.Context, in ChargeRequest) (Payment, error)
	// Refund returns a captured payment to the wallet, exactly once. A
	// repeat with the same IdempotencyKey returns the same payment.
	Refund(ctx context.Context, in RefundRequest) (Payment, error)
	// VoidCharge undoes the charge made (or still to come) with ChargeKey:
	// an existing charge is refunded, and a later Charge with that key is
	// refused with ErrChargeVoided. Repeating it changes nothing more.
	VoidCharge(ctx context.Context, in VoidChargeRequest) (Void, error)
	// GetPayment returns one of the user's payments; ErrNotFound otherwise.
	GetPayment(ctx context.Context, in GetPaymentRequest) (Payment, error)
	// ListPayments returns the user's payments, newest first, optionally of one order.
	ListPayments(ctx context.Context, in ListPaymentsRequest) (PaymentList, error)
}

// DepositRequest is the input of Deposit. IdempotencyKey is optional.
type DepositRequest struct {
	UserID         string `json:"user_id"`
	AmountCents    int64  `json:"amount_cents"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// WalletRequest is the input of GetWallet.
type WalletRequest struct {
	UserID string `json:"user_id"`
}

// Wallet is a user's balance.
type Wallet struct {
	UserID       string `json:"user_id"`
	BalanceCents int64  `json:"balance_cents"`
}

// ChargeRequest is the input of Charge.
type ChargeRequest struct {
	UserID         string `json:"user_id"`
	OrderID        string `json:"order_id"`
	AmountCents    int64  `json:"amount_cents"`
	IdempotencyKey string `json:"idempotency_key"`
}

// RefundRequest is the input of Refund. IdempotencyKey is optional; a key
// already used to refund another payment is ErrIdempotencyConflict.
type RefundRequest struct {
	UserID         string `json:"user_id"`
	PaymentID      string `json:"payment_id"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// VoidChargeRequest is the input of VoidCharge: ChargeKey is the
// IdempotencyKey the charge was (or would be) made with, and is itself the
// key of the void.
type VoidChargeRequest struct {
	UserID    string `json:"user_id"`
	ChargeKey string `json:"charge_key"`
}

// Void is the output of VoidCharge. Payment is the refunded charge, or nil
// when no charge had been made with the key (and none ever will be).
type Void struct {
	ChargeKey string    `json:"charge_key"`
	Payment   *Payment  `json:"payment"`
	VoidedAt  time.Time `json:"voided_at"`
}

// GetPaymentRequest is the input of GetPayment.
type GetPaymentRequest struct {
	UserID    string `json:"user_id"`
	PaymentID string `json:"payment_id"`
}

// ListPaymentsRequest is the input of ListPayments; OrderID is optional.
type ListPaymentsRequest struct {
	UserID  string `json:"user_id"`
	OrderID string `json:"order_id,omitempty"`
}

// Payment statuses.
const (
	StatusCaptured = "captured"
	StatusRefunded = "refunded"
)

// Payment is a charge for an order.
type Payment struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	OrderID     string     `json:"order_id"`
	AmountCents int64      `json:"amount_cents"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	RefundedAt  *time.Time `json:"refunded_at"`
}

// PaymentList is the output of ListPayments.
type PaymentList struct {
	Items []Payment `json:"items"`
}

// MaxAmountCents bounds one deposit or charge (one million in currency units).
const MaxAmountCents = 100_000_000

// Errors of the payments contract.
var (
	// ErrInsufficientFunds means the wallet balance is below the charge.
	ErrInsufficientFunds = problem.New("payments.insufficient_funds", http.StatusUnprocessableEntity, "Insufficient funds")
	// ErrNotFound means there is no such payment for this user.
	ErrNotFound = problem.New("payments.not_found", http.StatusNotFound, "Payment not found")
	// ErrIdempotencyConflict means the key was used for a different request.
	ErrIdempotencyConflict = problem.New("payments.idempotency_conflict", http.StatusConflict, "Idempotency key reused with a different request")
	// ErrChargeVoided means the charge's key was voided: it never charges.
	ErrChargeVoided = problem.New("payments.charge_voided", http.StatusConflict, "Charge voided")
)

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrInsufficientFunds, ErrNotFound, ErrIdempotencyConflict, ErrChargeVoided}

// Event types payments publishes; the aggregate of each is the payment.
const (
	// EventPaymentCaptured is published when a charge is captured.
	EventPaymentCaptured = "payment.captured"
	// EventPaymentRefunded is published when a payment is refunded.
	EventPaymentRefunded = "payment.refunded"
)

// PaymentCaptured is the payload of payment.captured.
type PaymentCaptured struct {
	PaymentID   string `json:"payment_id"`
	UserID      string `json:"user_id"`
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
}

// PaymentRefunded is the payload of payment.refunded.
type PaymentRefunded struct {
	PaymentID   string `json:"payment_id"`
	UserID      string `json:"user_id"`
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
}
