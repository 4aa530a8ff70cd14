package app_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/app"
	"mitosis/modules/payments/internal/store"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A charge sends no more statements than it does since its key's payment
// and void are read in one statement, and the debit, the payment and its
// ledger entry are written in one (issue 12; before: 9, its replay 4 and a
// refusal 6): a statement added back fails here, not in a load run.
func TestTheChargePathsStayWithinTheirStatementBudget(t *testing.T) {
	ctx := context.Background()
	bdb := modulestest.Database(t, "payments", 4)
	var count modulestest.Statements
	svc := app.New(store.New(bdb.WithQueryHook(&count)))

	budget := func(name string, max int) {
		t.Helper()
		got := count.Take().Statements
		t.Logf("%s: %d statements", name, got)
		assert.LessOrEqual(t, got, max, "%s: statements", name)
	}
	user, order := uuid.NewString(), uuid.NewString()
	_, err := svc.Deposit(ctx, payments.DepositRequest{UserID: user, AmountCents: 5000})
	require.NoError(t, err)
	count.Take()

	charge := payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 3670, IdempotencyKey: "order:" + order + ":charge"}
	first, err := svc.Charge(ctx, charge)
	require.NoError(t, err)
	budget("charge", 6)
	again, err := svc.Charge(ctx, charge)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the replay answers the same payment")
	budget("charge replayed under its key", 4)
	wallet, err := svc.GetWallet(ctx, payments.WalletRequest{UserID: user})
	require.NoError(t, err)
	assert.Equal(t, int64(5000-3670), wallet.BalanceCents, "charged once")
	count.Take()

	order = uuid.NewString()
	_, err = svc.Charge(ctx, payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 3670, IdempotencyKey: "order:" + order + ":charge"})
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	budget("charge refused", 5)
	wallet, err = svc.GetWallet(ctx, payments.WalletRequest{UserID: user})
	require.NoError(t, err)
	assert.Equal(t, int64(5000-3670), wallet.BalanceCents, "the refusal moved nothing")
}
