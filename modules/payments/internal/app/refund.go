package app

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/store"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

// Refund credits a captured payment back, exactly once; refunding a
// refunded payment returns it unchanged. A key is stored with the refund,
// so a repeat with it answers the same payment, and the key cannot refund
// another one.
func (s *Service) Refund(ctx context.Context, in payments.RefundRequest) (payments.Payment, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	checkKey(&bad, "idempotency_key", in.IdempotencyKey, false)
	if err := bad.Err(); err != nil {
		return payments.Payment{}, err
	}
	if !ids.Valid(in.PaymentID) {
		return payments.Payment{}, payments.ErrNotFound
	}
	var out payments.Payment
	err := retryOnDuplicate(func() error {
		return s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if in.IdempotencyKey != "" {
				paymentID, found, err := store.RefundByKey(ctx, tx, in.UserID, in.IdempotencyKey)
				if err != nil {
					return err
				}
				if found && paymentID != in.PaymentID {
					return payments.ErrIdempotencyConflict
				}
			}
			p, err := store.PaymentOf(ctx, tx, in.UserID, in.PaymentID, true)
			if err != nil {
				return err
			}
			out, err = refund(ctx, tx, p, in.IdempotencyKey)
			return err
		})
	})
	return out, err
}

// VoidCharge records the charge key as voided and refunds the charge made
// with it, if any. Charges and voids of one key are serialised, so a charge
// either happened before the void (and is refunded) or is refused after.
func (s *Service) VoidCharge(ctx context.Context, in payments.VoidChargeRequest) (payments.Void, error) {
	var bad problem.Fields
	checkUser(&bad, in.UserID)
	checkKey(&bad, "charge_key", in.ChargeKey, true)
	if err := bad.Err(); err != nil {
		return payments.Void{}, err
	}
	out := payments.Void{ChargeKey: in.ChargeKey}
	err := s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockChargeKey(ctx, tx, in.ChargeKey); err != nil {
			return err
		}
		at, owner, err := store.Void(ctx, tx, in.ChargeKey, in.UserID, now())
		if err != nil {
			return err
		}
		if owner != in.UserID {
			return payments.ErrIdempotencyConflict
		}
		out.VoidedAt = at
		p, err := store.PaymentByKey(ctx, tx, in.ChargeKey)
		if errors.Is(err, payments.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.UserID != in.UserID {
			return payments.ErrIdempotencyConflict
		}
		if p, err = store.PaymentOf(ctx, tx, p.UserID, p.ID, true); err != nil {
			return err
		}
		refunded, err := refund(ctx, tx, p, "")
		out.Payment = &refunded
		return err
	})
	return out, err
}

// refund credits p back unless it is refunded already; p must be locked.
func refund(ctx context.Context, tx bun.Tx, p payments.Payment, key string) (payments.Payment, error) {
	if p.Status == payments.StatusRefunded {
		return p, nil
	}
	if _, err := store.Adjust(ctx, tx, store.LedgerEntry{
		UserID: p.UserID, Kind: store.KindRefund, AmountCents: p.AmountCents, PaymentID: p.ID, IdempotencyKey: key,
	}); err != nil {
		return payments.Payment{}, err
	}
	at := now()
	if err := store.MarkRefunded(ctx, tx, p.ID, at); err != nil {
		return payments.Payment{}, err
	}
	if err := store.Publish(ctx, tx, payments.EventPaymentRefunded, p.ID, payments.PaymentRefunded{
		PaymentID: p.ID, UserID: p.UserID, OrderID: p.OrderID, AmountCents: p.AmountCents,
	}); err != nil {
		return payments.Payment{}, err
	}
	p.Status, p.RefundedAt = payments.StatusRefunded, &at
	return p, nil
}

func checkKey(bad *problem.Fields, field, key string, required bool) {
	switch {
	case required && key == "":
		bad.Add(field, "is required")
	case len(key) > 200:
		bad.Add(field, "must be at most 200 characters")
	}
}
