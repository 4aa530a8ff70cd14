package paymentstest

import (
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/payments"
)

func (s *suite) testDepositOpensWallet(t *testing.T) {
	user := uuid.NewString()
	assert.Equal(t, payments.Wallet{UserID: user, BalanceCents: 0}, s.wallet(t, user))
	w, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 500})
	require.NoError(t, err)
	assert.Equal(t, payments.Wallet{UserID: user, BalanceCents: 500}, w)
	w, err = s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 250})
	require.NoError(t, err)
	assert.Equal(t, int64(750), w.BalanceCents)
	assert.Equal(t, payments.Wallet{UserID: user, BalanceCents: 750}, s.wallet(t, user))
}

func (s *suite) testLargestDeposit(t *testing.T) {
	user := uuid.NewString()
	w, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: payments.MaxAmountCents})
	require.NoError(t, err)
	assert.Equal(t, int64(payments.MaxAmountCents), w.BalanceCents)
}

func (s *suite) testDepositKey(t *testing.T) {
	user, key := uuid.NewString(), "dep-"+uuid.NewString()
	for range 2 {
		w, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 100, IdempotencyKey: key})
		require.NoError(t, err)
		assert.Equal(t, int64(100), w.BalanceCents)
	}
	_, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 200, IdempotencyKey: key})
	require.ErrorIs(t, err, payments.ErrIdempotencyConflict)
	assert.Equal(t, int64(100), s.balance(t, user))
}

func (s *suite) testConcurrentDepositKey(t *testing.T) {
	user, key := uuid.NewString(), "dep-"+uuid.NewString()
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 70, IdempotencyKey: key})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(70), s.balance(t, user))
}

// Deposit keys come from clients, so they are scoped to the user.
func (s *suite) testDepositKeysArePerUser(t *testing.T) {
	key := "dep-shared-" + uuid.NewString()[:8]
	for _, user := range []string{uuid.NewString(), uuid.NewString()} {
		w, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: 300, IdempotencyKey: key})
		require.NoError(t, err)
		assert.Equal(t, int64(300), w.BalanceCents)
	}
}
