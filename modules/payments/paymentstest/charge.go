package paymentstest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/payments"
)

func (s *suite) testCharge(t *testing.T) {
	user, order, key := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s.deposit(t, user, 1000)
	p, err := s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 300, IdempotencyKey: key})
	require.NoError(t, err)
	assert.NotEmpty(t, p.ID)
	assert.Equal(t, user, p.UserID)
	assert.Equal(t, order, p.OrderID)
	assert.Equal(t, int64(300), p.AmountCents)
	assert.Equal(t, payments.StatusCaptured, p.Status)
	assert.WithinDuration(t, time.Now(), p.CreatedAt, time.Minute)
	assert.Nil(t, p.RefundedAt)
	assert.Equal(t, int64(700), s.balance(t, user))

	got, err := s.svc.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: user, PaymentID: p.ID})
	require.NoError(t, err)
	assert.Equal(t, p, got)
}

func (s *suite) testChargeInsufficient(t *testing.T) {
	user, order := uuid.NewString(), uuid.NewString()
	s.deposit(t, user, 100)
	_, err := s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 101, IdempotencyKey: uuid.NewString()})
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	assert.Equal(t, int64(100), s.balance(t, user))
	list, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user})
	require.NoError(t, err)
	assert.Empty(t, list.Items, "a refused charge left a payment")

	// A wallet never funded refuses too.
	_, err = s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: uuid.NewString(), OrderID: order, AmountCents: 1, IdempotencyKey: uuid.NewString()})
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
}

func (s *suite) testChargeRetryAfterRefusal(t *testing.T) {
	user, order, key := uuid.NewString(), uuid.NewString(), uuid.NewString()
	in := payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 50, IdempotencyKey: key}
	_, err := s.svc.Charge(s.ctx, in)
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	s.deposit(t, user, 80)
	p, err := s.svc.Charge(s.ctx, in)
	require.NoError(t, err)
	assert.Equal(t, payments.StatusCaptured, p.Status)
	assert.Equal(t, int64(30), s.balance(t, user))
}

func (s *suite) testChargeKey(t *testing.T) {
	user, order, key := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s.deposit(t, user, 1000)
	in := payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 400, IdempotencyKey: key}
	first, err := s.svc.Charge(s.ctx, in)
	require.NoError(t, err)
	again, err := s.svc.Charge(s.ctx, in)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, int64(600), s.balance(t, user))

	conflicts := []struct {
		name string
		in   payments.ChargeRequest
	}{
		{"other amount", payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 401, IdempotencyKey: key}},
		{"other order", payments.ChargeRequest{UserID: user, OrderID: uuid.NewString(), AmountCents: 400, IdempotencyKey: key}},
	}
	for _, tc := range conflicts {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.svc.Charge(s.ctx, tc.in)
			require.ErrorIs(t, err, payments.ErrIdempotencyConflict)
		})
	}
	assert.Equal(t, int64(600), s.balance(t, user))
}

func (s *suite) testConcurrentChargeKey(t *testing.T) {
	user, order, key := uuid.NewString(), uuid.NewString(), uuid.NewString()
	s.deposit(t, user, 100)
	got := make([]payments.Payment, 5)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 60, IdempotencyKey: key})
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, got[0].ID, got[i].ID)
	}
	assert.Equal(t, int64(40), s.balance(t, user))
}

func (s *suite) testConcurrentCharges(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 100)
	errs := make([]error, 10)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.svc.Charge(s.ctx, payments.ChargeRequest{
				UserID: user, OrderID: uuid.NewString(), AmountCents: 30, IdempotencyKey: uuid.NewString(),
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	}
	assert.Equal(t, 3, ok)
	assert.Equal(t, int64(10), s.balance(t, user))
	list, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user})
	require.NoError(t, err)
	assert.Len(t, list.Items, 3)
}
