// Package app is the payments domain: deposits, charges and refunds, each
// one transaction that moves the balance and writes its ledger entry.
package app

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/store"
	"mitosis/platform/db"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

// Service is the local implementation of payments.Service.
type Service struct{ store *store.Store }

var _ payments.Service = (*Service)(nil)

// New returns the payments service.
func New(s *store.Store) *Service { return &Service{store: s} }

// Deposit credits the wallet. With a key, a repeat returns the current
// balance without crediting again.
func (s *Service) Deposit(ctx context.Context, in payments.DepositRequest) (payments.Wallet, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	checkAmount(&bad, in.AmountCents)
	if len(in.IdempotencyKey) > 200 {
		bad.Add("idempotency_key", "must be at most 200 characters")
	}
	if err := bad.Err(); err != nil {
		return payments.Wallet{}, err
	}
	var balance int64
	err := retryOnDuplicate(func() error {
		return s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := store.OpenWallet(ctx, tx, in.UserID); err != nil {
				return err
			}
			if in.IdempotencyKey != "" {
				amount, found, err := store.DepositByKey(ctx, tx, in.UserID, in.IdempotencyKey)
				if err != nil {
					return err
				}
				if found {
					if amount != in.AmountCents {
						return payments.ErrIdempotencyConflict
					}
					balance, err = store.Balance(ctx, tx, in.UserID)
					return err
				}
			}
			var err error
			balance, err = store.Adjust(ctx, tx, store.LedgerEntry{
				UserID: in.UserID, Kind: store.KindDeposit, AmountCents: in.AmountCents, IdempotencyKey: in.IdempotencyKey,
			})
			return err
		})
	})
	if err != nil {
		return payments.Wallet{}, err
	}
	return payments.Wallet{UserID: in.UserID, BalanceCents: balance}, nil
}

// GetWallet returns the balance.
func (s *Service) GetWallet(ctx context.Context, in payments.WalletRequest) (payments.Wallet, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	if err := bad.Err(); err != nil {
		return payments.Wallet{}, err
	}
	balance, err := store.Balance(ctx, s.store.DB(), in.UserID)
	if err != nil {
		return payments.Wallet{}, err
	}
	return payments.Wallet{UserID: in.UserID, BalanceCents: balance}, nil
}

// Charge debits the wallet for an order, once per idempotency key, unless
// the key was voided.
func (s *Service) Charge(ctx context.Context, in payments.ChargeRequest) (payments.Payment, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	checkUUID(&bad, "order_id", in.OrderID)
	checkAmount(&bad, in.AmountCents)
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 200 {
		bad.Add("idempotency_key", "is required, at most 200 characters")
	}
	if err := bad.Err(); err != nil {
		return payments.Payment{}, err
	}
	var out payments.Payment
	err := retryOnDuplicate(func() error {
		return s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := store.LockChargeKey(ctx, tx, in.IdempotencyKey); err != nil {
				return err
			}
			// The replay and the void, read at once.
			key, err := store.ChargeByKey(ctx, tx, in.IdempotencyKey)
			switch {
			case err != nil:
				return err
			case key.Payment != nil:
				prev := *key.Payment
				if prev.UserID != in.UserID || prev.OrderID != in.OrderID || prev.AmountCents != in.AmountCents {
					return payments.ErrIdempotencyConflict
				}
				out = prev
				return nil
			case key.Voided:
				return payments.ErrChargeVoided
			}
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			p := payments.Payment{ID: id.String(), UserID: in.UserID, OrderID: in.OrderID, AmountCents: in.AmountCents,
				Status: payments.StatusCaptured, CreatedAt: now()}
			// A wallet that does not exist has nothing to charge (so no
			// upsert of it here).
			if err := store.Capture(ctx, tx, p, in.IdempotencyKey); err != nil {
				return err
			}
			if err := store.Publish(ctx, tx, payments.EventPaymentCaptured, p.ID, payments.PaymentCaptured{
				PaymentID: p.ID, UserID: p.UserID, OrderID: p.OrderID, AmountCents: p.AmountCents,
			}); err != nil {
				return err
			}
			out = p
			return nil
		})
	})
	return out, err
}

// GetPayment returns one of the user's payments.
func (s *Service) GetPayment(ctx context.Context, in payments.GetPaymentRequest) (payments.Payment, error) {
	if !ids.Valid(in.PaymentID) || !ids.Valid(in.UserID) {
		return payments.Payment{}, payments.ErrNotFound
	}
	return store.PaymentOf(ctx, s.store.DB(), in.UserID, in.PaymentID, false)
}

// ListPayments returns the user's payments, optionally of one order.
func (s *Service) ListPayments(ctx context.Context, in payments.ListPaymentsRequest) (payments.PaymentList, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	if in.OrderID != "" {
		checkUUID(&bad, "order_id", in.OrderID)
	}
	if err := bad.Err(); err != nil {
		return payments.PaymentList{}, err
	}
	items, err := s.store.ListPayments(ctx, in.UserID, in.OrderID)
	return payments.PaymentList{Items: items}, err
}

func checkUser(bad *problem.Fields, id string) { checkUUID(bad, "user_id", id) }

func checkUUID(bad *problem.Fields, field, id string) {
	if !ids.Valid(id) {
		bad.Add(field, "must be a UUID")
	}
}

func checkAmount(bad *problem.Fields, cents int64) {
	if cents <= 0 || cents > payments.MaxAmountCents {
		bad.Add("amount_cents", "must be between 1 and 100000000")
	}
}

// retryOnDuplicate repeats fn once when a concurrent request with the same
// idempotency key committed first: the second pass finds its result.
func retryOnDuplicate(fn func() error) error {
	err := fn()
	if db.IsUniqueViolation(err) {
		return fn()
	}
	return err
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
