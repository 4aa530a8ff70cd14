// Package paymentstest is the contract suite of payments.Service: every
// implementation (local, or the HTTP client) must pass it unchanged.
package paymentstest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/payments"
	"mitosis/platform/problem"
)

// suite is one run of the contract. Users are random UUIDs: payments does
// not know users, so every subtest opens wallets of its own.
type suite struct {
	svc payments.Service
	ctx context.Context
}

// Run checks svc against the contract.
func Run(t *testing.T, svc payments.Service) {
	s := &suite{svc: svc, ctx: context.Background()}
	t.Run("deposit opens the wallet and returns the new balance", s.testDepositOpensWallet)
	t.Run("the largest deposit is accepted", s.testLargestDeposit)
	t.Run("deposit with an idempotency key credits once", s.testDepositKey)
	t.Run("deposit keys are scoped to the user", s.testDepositKeysArePerUser)
	t.Run("concurrent deposits with one key credit once", s.testConcurrentDepositKey)
	t.Run("invalid input names every bad field", s.testValidation)
	t.Run("charge takes the money and returns a captured payment", s.testCharge)
	t.Run("charge above the balance is refused and moves nothing", s.testChargeInsufficient)
	t.Run("a refused charge can be retried with its key once funded", s.testChargeRetryAfterRefusal)
	t.Run("charge retried with its key returns the same payment and charges once", s.testChargeKey)
	t.Run("concurrent charges with one key charge once", s.testConcurrentChargeKey)
	t.Run("concurrent charges never overdraw", s.testConcurrentCharges)
	t.Run("refund returns the money exactly once", s.testRefund)
	t.Run("concurrent refunds return the money once", s.testConcurrentRefunds)
	t.Run("a refund key answers the same refund and refunds no other payment", s.testRefundKey)
	t.Run("voiding a charge refunds it once and its key stays charged once", s.testVoidCharge)
	t.Run("a charge after its void is refused", s.testVoidBeforeCharge)
	t.Run("a void racing its charge never leaves money taken", s.testVoidRacesCharge)
	t.Run("another user's payment is not found", s.testOtherUser)
	t.Run("payments are listed newest first and filtered by order", s.testList)
	t.Run("an expired deadline is honoured", s.testDeadline)
}

func (s *suite) wallet(t *testing.T, user string) payments.Wallet {
	t.Helper()
	w, err := s.svc.GetWallet(s.ctx, payments.WalletRequest{UserID: user})
	require.NoError(t, err)
	return w
}

func (s *suite) balance(t *testing.T, user string) int64 {
	t.Helper()
	return s.wallet(t, user).BalanceCents
}

func (s *suite) deposit(t *testing.T, user string, cents int64) {
	t.Helper()
	_, err := s.svc.Deposit(s.ctx, payments.DepositRequest{UserID: user, AmountCents: cents})
	require.NoError(t, err)
}

// charge charges user for a new order under a fresh key.
func (s *suite) charge(t *testing.T, user string, cents int64) payments.Payment {
	t.Helper()
	p, err := s.svc.Charge(s.ctx, payments.ChargeRequest{
		UserID: user, OrderID: uuid.NewString(), AmountCents: cents, IdempotencyKey: uuid.NewString(),
	})
	require.NoError(t, err)
	return p
}

// invalidFields requires err to be a validation error and returns the names
// of the fields it reports.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, problem.ErrValidation)
	var ve *problem.ValidationError
	require.True(t, errors.As(err, &ve), "%T is not a *problem.ValidationError", err)
	return ve.FieldNames()
}
