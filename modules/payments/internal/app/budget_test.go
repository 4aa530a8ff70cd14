package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/migrations"
	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/app"
	"mitosis/modules/payments/internal/store"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// statements counts what payments sends to its database, BEGIN and COMMIT
// included.
type statements struct {
	mu sync.Mutex
	n  int
}

func (c *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *statements) AfterQuery(context.Context, *bun.QueryEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
}

// take returns the count since the last take, and starts again.
func (c *statements) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// A charge sends no more statements than it does since its key's payment
// and void are read in one statement, and the debit, the payment and its
// ledger entry are written in one (issue 12; before: 9, its replay 4 and a
// refusal 6): a statement added back fails here, not in a load run.
func TestTheChargePathsStayWithinTheirStatementBudget(t *testing.T) {
	ctx := context.Background()
	dbCfg := config.Config{Database: config.Database{URL: pgtest.NewDatabase(t), Isolation: config.Shared, Roles: config.RolesSingle}}
	target, err := db.TargetFor(dbCfg, &db.Cluster{AdminURL: dbCfg.Database.URL}, "payments")
	require.NoError(t, err)
	bdb, err := db.Open(target, 4)
	require.NoError(t, err)
	t.Cleanup(func() { bdb.Close() })
	require.NoError(t, db.Prepare(ctx, target, bdb, migrations.Tree(), slog.New(slog.NewTextHandler(io.Discard, nil))))
	var count statements
	svc := app.New(store.New(bdb.WithQueryHook(&count)))

	budget := func(name string, max int) {
		t.Helper()
		got := count.take()
		t.Logf("%s: %d statements", name, got)
		assert.LessOrEqual(t, got, max, "%s: statements", name)
	}
	user, order := uuid.NewString(), uuid.NewString()
	_, err = svc.Deposit(ctx, payments.DepositRequest{UserID: user, AmountCents: 5000})
	require.NoError(t, err)
	count.take()

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
	count.take()

	order = uuid.NewString()
	_, err = svc.Charge(ctx, payments.ChargeRequest{UserID: user, OrderID: order, AmountCents: 3670, IdempotencyKey: "order:" + order + ":charge"})
	require.ErrorIs(t, err, payments.ErrInsufficientFunds)
	budget("charge refused", 5)
	wallet, err = svc.GetWallet(ctx, payments.WalletRequest{UserID: user})
	require.NoError(t, err)
	assert.Equal(t, int64(5000-3670), wallet.BalanceCents, "the refusal moved nothing")
}
