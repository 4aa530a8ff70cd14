package payments_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/payments"
	"mitosis/modules/payments/paymentstest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestContract runs the contract suite in-process (direct and strict) and
// over HTTP.
func TestContract(t *testing.T) {
	p := modulestest.Contract(t, "payments", map[string]string{"SERVICES": "payments"}, paymentstest.Run)
	// Whatever the suite did, every wallet still equals its ledger.
	assert.NotEmpty(t, ledgerBalances(t, p.DB))
}

// TestLedgerInvariant proves in SQL that a wallet's balance is the sum of its
// ledger entries, after deposits, charges, refused charges, replays and
// refunds, some of them concurrent.
func TestLedgerInvariant(t *testing.T) {
	var svc payments.Service
	p := modulestest.Start(t, map[string]string{"SERVICES": "payments"}, &svc)
	ctx := context.Background()

	alice, bob, carol := uuid.NewString(), uuid.NewString(), uuid.NewString()
	deposit := func(user string, cents int64, key string) {
		t.Helper()
		_, err := svc.Deposit(ctx, payments.DepositRequest{UserID: user, AmountCents: cents, IdempotencyKey: key})
		require.NoError(t, err)
	}
	charge := func(user string, cents int64, key string) (payments.Payment, error) {
		return svc.Charge(ctx, payments.ChargeRequest{UserID: user, OrderID: uuid.NewString(), AmountCents: cents, IdempotencyKey: key})
	}
	refund := func(user, paymentID string) {
		t.Helper()
		_, err := svc.Refund(ctx, payments.RefundRequest{UserID: user, PaymentID: paymentID})
		require.NoError(t, err)
	}

	// alice: 1000 + 500 (replayed once) - 300 - 200 + 300 (refunded twice) = 1300
	deposit(alice, 1000, "")
	deposit(alice, 500, "alice-dep")
	deposit(alice, 500, "alice-dep")
	p1, err := charge(alice, 300, "alice-1")
	require.NoError(t, err)
	_, err = charge(alice, 200, "alice-2")
	require.NoError(t, err)
	_, err = charge(alice, 5000, "alice-3")
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	refund(alice, p1.ID)
	refund(alice, p1.ID)

	// bob: 100, then eight concurrent charges of 30 (three fit) = 10
	deposit(bob, 100, "")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = charge(bob, 30, uuid.NewString()) })
	}
	wg.Wait()

	// carol: 50 charged in full, retried, then refunded concurrently = 50
	deposit(carol, 50, "")
	carolCharge := payments.ChargeRequest{UserID: carol, OrderID: uuid.NewString(), AmountCents: 50, IdempotencyKey: "carol-1"}
	p3, err := svc.Charge(ctx, carolCharge)
	require.NoError(t, err)
	_, err = svc.Charge(ctx, carolCharge)
	require.NoError(t, err)
	for range 4 {
		wg.Go(func() { _, _ = svc.Refund(ctx, payments.RefundRequest{UserID: carol, PaymentID: p3.ID}) })
	}
	wg.Wait()

	balances := ledgerBalances(t, p.DB)
	assert.Equal(t, map[string]int64{alice: 1300, bob: 10, carol: 50}, balances)
}

// ledgerBalances reads every wallet straight from the database, requires
// each balance to equal the sum of the wallet's ledger entries and never to
// be negative, and returns the balances by user.
func ledgerBalances(t *testing.T, dbURL string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	query := func(sql string) map[string]int64 {
		t.Helper()
		rows, err := conn.Query(ctx, sql)
		require.NoError(t, err)
		out := map[string]int64{}
		for rows.Next() {
			var (
				user  string
				cents int64
			)
			require.NoError(t, rows.Scan(&user, &cents))
			out[user] = cents
		}
		require.NoError(t, rows.Err())
		return out
	}
	wallets := query("SELECT user_id::text, balance_cents FROM payments.wallets")
	ledger := query("SELECT user_id::text, sum(amount_cents)::bigint FROM payments.ledger_entries GROUP BY user_id")
	for user, cents := range wallets {
		assert.GreaterOrEqual(t, cents, int64(0), "wallet %s is negative", user)
		if cents == 0 {
			// A wallet without entries sums to zero, though SQL's sum says nothing.
			if _, ok := ledger[user]; !ok {
				ledger[user] = 0
			}
		}
	}
	require.Equal(t, wallets, ledger, "wallet balances differ from their ledgers")
	return wallets
}
