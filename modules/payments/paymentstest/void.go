package paymentstest

import (
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/payments"
)

func (s *suite) testRefundKey(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 500)
	p := s.charge(t, user, 200)
	other := s.charge(t, user, 100)
	key := "refund-" + uuid.NewString()

	first, err := s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: p.ID, IdempotencyKey: key})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusRefunded, first.Status)
	again, err := s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: p.ID, IdempotencyKey: key})
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, int64(400), s.balance(t, user))

	_, err = s.svc.Refund(s.ctx, payments.RefundRequest{UserID: user, PaymentID: other.ID, IdempotencyKey: key})
	require.ErrorIs(t, err, payments.ErrIdempotencyConflict)
	assert.Equal(t, int64(400), s.balance(t, user), "a key reused for another payment refunds nothing")
}

func (s *suite) testVoidCharge(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 500)
	key := "charge-" + uuid.NewString()
	p, err := s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: uuid.NewString(), AmountCents: 200, IdempotencyKey: key})
	require.NoError(t, err)
	require.Equal(t, int64(300), s.balance(t, user))

	void, err := s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: user, ChargeKey: key})
	require.NoError(t, err)
	assert.Equal(t, key, void.ChargeKey)
	require.NotNil(t, void.Payment)
	assert.Equal(t, p.ID, void.Payment.ID)
	assert.Equal(t, payments.StatusRefunded, void.Payment.Status)
	assert.Equal(t, int64(500), s.balance(t, user))

	again, err := s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: user, ChargeKey: key})
	require.NoError(t, err)
	assert.Equal(t, void, again)
	assert.Equal(t, int64(500), s.balance(t, user), "a repeated void refunds once")

	// The charge retried with its key answers the same, refunded payment.
	replay, err := s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: p.OrderID, AmountCents: 200, IdempotencyKey: key})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusRefunded, replay.Status)
	assert.Equal(t, int64(500), s.balance(t, user))
}

func (s *suite) testVoidBeforeCharge(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 500)
	key := "charge-" + uuid.NewString()
	void, err := s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: user, ChargeKey: key})
	require.NoError(t, err)
	assert.Nil(t, void.Payment)
	assert.False(t, void.VoidedAt.IsZero())

	_, err = s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: uuid.NewString(), AmountCents: 200, IdempotencyKey: key})
	require.ErrorIs(t, err, payments.ErrChargeVoided)
	assert.Equal(t, int64(500), s.balance(t, user), "a late charge after its void takes nothing")
	list, err := s.svc.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: user})
	require.NoError(t, err)
	assert.Empty(t, list.Items)

	_, err = s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: uuid.NewString(), ChargeKey: key})
	require.ErrorIs(t, err, payments.ErrIdempotencyConflict, "another user cannot claim the key")
	_, err = s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: user})
	assert.ElementsMatch(t, []string{"charge_key"}, invalidFields(t, err))
}

// testVoidRacesCharge fires a void and a charge of one key together, many
// times: either the charge wins and is refunded, or it is refused; never
// is money taken.
func (s *suite) testVoidRacesCharge(t *testing.T) {
	user := uuid.NewString()
	s.deposit(t, user, 10_000)
	for range 20 {
		key := "charge-" + uuid.NewString()
		var chargeErr, voidErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			_, chargeErr = s.svc.Charge(s.ctx, payments.ChargeRequest{UserID: user, OrderID: uuid.NewString(), AmountCents: 100, IdempotencyKey: key})
		})
		wg.Go(func() {
			_, voidErr = s.svc.VoidCharge(s.ctx, payments.VoidChargeRequest{UserID: user, ChargeKey: key})
		})
		wg.Wait()
		require.NoError(t, voidErr)
		if chargeErr != nil {
			require.ErrorIs(t, chargeErr, payments.ErrChargeVoided)
		}
		require.Equal(t, int64(10_000), s.balance(t, user))
	}
}
