package paymentstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/payments"
)

func (s *suite) testValidation(t *testing.T) {
	user := uuid.NewString()
	order := uuid.NewString()
	charge := func(in payments.ChargeRequest) func() error {
		return func() error { _, err := s.svc.Charge(s.ctx, in); return err }
	}
	deposit := func(in payments.DepositRequest) func() error {
		return func() error { _, err := s.svc.Deposit(s.ctx, in); return err }
	}
	cases := []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"deposit of zero", deposit(payments.DepositRequest{UserID: user, AmountCents: 0}), []string{"amount_cents"}},
		{"negative deposit", deposit(payments.DepositRequest{UserID: user, AmountCents: -5}), []string{"amount_cents"}},
		{"deposit above the maximum", deposit(payments.DepositRequest{UserID: user, AmountCents: payments.MaxAmountCents + 1}), []string{"amount_cents"}},
		{"deposit to a bad user id", deposit(payments.DepositRequest{UserID: "not-a-uuid", AmountCents: 10}), []string{"user_id"}},
		{"deposit with nothing right", deposit(payments.DepositRequest{AmountCents: -1}), []string{"user_id", "amount_cents"}},
		{"deposit with a key too long", deposit(payments.DepositRequest{UserID: user, AmountCents: 10, IdempotencyKey: strings.Repeat("k", 201)}), []string{"idempotency_key"}},
		{"charge of zero", charge(payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 0, IdempotencyKey: "k"}), []string{"amount_cents"}},
		{"negative charge", charge(payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: -1, IdempotencyKey: "k"}), []string{"amount_cents"}},
		{"charge above the maximum", charge(payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: payments.MaxAmountCents + 1, IdempotencyKey: "k"}), []string{"amount_cents"}},
		{"charge of a bad user id", charge(payments.ChargeRequest{UserID: "nope", OrderID: order, AmountCents: 1, IdempotencyKey: "k"}), []string{"user_id"}},
		{"charge for a bad order id", charge(payments.ChargeRequest{UserID: user, OrderID: "nope", AmountCents: 1, IdempotencyKey: "k"}), []string{"order_id"}},
		{"charge without a key", charge(payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 1}), []string{"idempotency_key"}},
		{"wallet of a bad user id", func() error {
			_, err := s.svc.GetWallet(s.ctx, payments.WalletRequest{UserID: "nope"})
			return err
		}, []string{"user_id"}},
		{"refund for a bad user id", func() error {
			_, err := s.svc.Refund(s.ctx, payments.RefundRequest{UserID: "nope", PaymentID: uuid.NewString()})
			return err
		}, []string{"user_id"}},
		{"list with a bad order filter", func() error {
			_, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user, OrderID: "nope"})
			return err
		}, []string{"order_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.ElementsMatch(t, tc.fields, invalidFields(t, tc.call()))
		})
	}
	assert.Equal(t, int64(0), s.balance(t, user), "a refused call moved money")
}

func (s *suite) testDeadline(t *testing.T) {
	dctx, cancel := context.WithTimeout(s.ctx, time.Nanosecond)
	defer cancel()
	<-dctx.Done()
	user, id := uuid.NewString(), uuid.NewString()
	calls := []struct {
		name string
		call func() error
	}{
		{"Deposit", func() error {
			_, err := s.svc.Deposit(dctx, payments.DepositRequest{UserID: user, AmountCents: 1})
			return err
		}},
		{"GetWallet", func() error { _, err := s.svc.GetWallet(dctx, payments.WalletRequest{UserID: user}); return err }},
		{"Charge", func() error {
			_, err := s.svc.Charge(dctx, payments.ChargeRequest{UserID: user, OrderID: id, AmountCents: 1, IdempotencyKey: id})
			return err
		}},
		{"Refund", func() error {
			_, err := s.svc.Refund(dctx, payments.RefundRequest{UserID: user, PaymentID: id})
			return err
		}},
		{"GetPayment", func() error {
			_, err := s.svc.GetPayment(dctx, payments.GetPaymentRequest{UserID: user, PaymentID: id})
			return err
		}},
		{"ListPayments", func() error {
			_, err := s.svc.ListPayments(dctx, payments.ListPaymentsRequest{UserID: user})
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), context.DeadlineExceeded)
		})
	}
	assert.Equal(t, int64(0), s.balance(t, user))
}
