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

func (s *suite) testRefund(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 500)
	p := s.charge(t, user, 200)
	require.Equal(t, int64(300), s.balance(t, user))

	first, err := s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: p.ID})
	require.NoError(t, err)
	assert.Equal(t, p.ID, first.ID)
	assert.Equal(t, payments.StatusRefunded, first.Status)
	require.NotNil(t, first.RefundedAt)
	assert.WithinDuration(t, time.Now(), *first.RefundedAt, time.Minute)
	assert.Equal(t, int64(500), s.balance(t, user))

	again, err := s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: p.ID})
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, int64(500), s.balance(t, user))

	got, err := s.svc.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: user, PaymentID: p.ID})
	require.NoError(t, err)
	assert.Equal(t, first, got)
}

func (s *suite) testConcurrentRefunds(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 100)
	p := s.charge(t, user, 100)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: p.ID})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(100), s.balance(t, user))
}

func (s *suite) testOtherUser(t *testing.T) {
	owner, other := uuid.NewString(), uuid.NewString()
	s.deposit(t, owner, 100)
	s.deposit(t, other, 100)
	p := s.charge(t, owner, 40)

	_, err := s.svc.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: other, PaymentID: p.ID})
	require.ErrorIs(t, err, payments.ErrNotFound)
	_, err = s.svc.Refund(s.ctx, payments.RefundRequest{UserID: other, PaymentID: p.ID})
	require.ErrorIs(t, err, payments.ErrNotFound)
	assert.Equal(t, int64(60), s.balance(t, owner))
	assert.Equal(t, int64(100), s.balance(t, other))
	got, err := s.svc.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: owner, PaymentID: p.ID})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusCaptured, got.Status)

	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		_, err = s.svc.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: owner, PaymentID: id})
		require.ErrorIs(t, err, payments.ErrNotFound, id)
		_, err = s.svc.Refund(s.ctx, payments.RefundRequest{UserID: owner, PaymentID: id})
		require.ErrorIs(t, err, payments.ErrNotFound, id)
	}
}

func (s *suite) testList(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 1000)
	var ids []string
	for _, cents := range []int64{10, 20, 30} {
		ids = append(ids, s.charge(t, user, cents).ID)
	}
	s.deposit(t, uuid.NewString(), 100) // someone else's activity is not listed
	list, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user})
	require.NoError(t, err)
	var got []string
	for _, p := range list.Items {
		got = append(got, p.ID)
		assert.Equal(t, user, p.UserID)
	}
	assert.Equal(t, []string{ids[2], ids[1], ids[0]}, got)

	second := list.Items[1]
	one, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user, OrderID: second.OrderID})
	require.NoError(t, err)
	assert.Equal(t, []payments.Payment{second}, one.Items)

	none, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user, OrderID: uuid.NewString()})
	require.NoError(t, err)
	assert.Empty(t, none.Items)
	empty, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: uuid.NewString()})
	require.NoError(t, err)
	assert.Empty(t, empty.Items)
}
