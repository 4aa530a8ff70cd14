package modules_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type services struct {
	users    users.Service
	payments payments.Service
	orders   orders.Service
	db       string
}

func TestEventsInOneProcess(t *testing.T) {
	var s services
	p := modulestest.Start(t, nil, &s.users, &s.payments, &s.orders)
	s.db = p.DB
	checkSubscribers(t, s)
}

// Three processes on one database: users delivers user.registered to
// payments, and orders its events to users, over authenticated HTTP.
func TestEventsAcrossProcesses(t *testing.T) {
	var s services
	pay := modulestest.Start(t, map[string]string{"SERVICES": "payments,inventory"}, &s.payments)
	usr := modulestest.Start(t, map[string]string{"SERVICES": "users", "PAYMENTS_URL": pay.URL, "DATABASE_URL": pay.DB}, &s.users)
	modulestest.Start(t, map[string]string{"SERVICES": "orders", "USERS_URL": usr.URL, "PAYMENTS_URL": pay.URL, "INVENTORY_URL": pay.URL,
		"DATABASE_URL": pay.DB}, &s.orders)
	s.db = pay.DB
	checkSubscribers(t, s)
}

// checkSubscribers: a wallet opens on registration, and the users module's
// order statistics follow confirmations and cancellations.
func checkSubscribers(t *testing.T, s services) {
	ctx := context.Background()
	admin, err := sql.Open("pgx", s.db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	scalar := func(query string, args ...any) int64 {
		var n int64
		require.NoError(t, admin.QueryRowContext(ctx, query, args...).Scan(&n))
		return n
	}

	u, err := s.users.Register(ctx, users.RegisterRequest{Email: userstest.Email(), Name: "Eve", Password: "a long password"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return scalar("SELECT count(*) FROM payments.wallets WHERE user_id = $1", u.ID) == 1
	}, 10*time.Second, 20*time.Millisecond, "wallet opened on user.registered")

	_, err = s.payments.Deposit(ctx, payments.DepositRequest{UserID: u.ID, AmountCents: 100_000})
	require.NoError(t, err)
	place := func() orders.Order {
		o, err := s.orders.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: u.ID, Items: []orders.Item{{SKU: "COFFEE-1KG", Quantity: 1}}})
		require.NoError(t, err)
		require.Equal(t, orders.StatusConfirmed, o.Status)
		return o
	}
	first, second := place(), place()
	_, err = s.orders.CancelOrder(ctx, orders.CancelOrderRequest{CustomerID: u.ID, OrderID: first.ID})
	require.NoError(t, err)
	stats := func() users.OrderStats {
		var st users.OrderStats
		err := admin.QueryRowContext(ctx, "SELECT orders_confirmed, total_spent_cents FROM users.order_stats WHERE user_id = $1", u.ID).
			Scan(&st.OrdersConfirmed, &st.TotalSpentCents)
		if err != nil && err != sql.ErrNoRows {
			require.NoError(t, err)
		}
		return st
	}
	// The first order's confirmation and cancellation cancel out, so wait
	// for all three events (two confirmations, one cancellation) first.
	require.Eventually(t, func() bool { return scalar("SELECT count(*) FROM users.event_inbox") == 3 },
		10*time.Second, 20*time.Millisecond)
	assert.Equal(t, users.OrderStats{OrdersConfirmed: 1, TotalSpentCents: second.TotalCents}, stats())

	// Each event was handled once, and the outboxes hold what was published.
	assert.EqualValues(t, 1, scalar("SELECT count(*) FROM payments.event_inbox WHERE type = $1", users.EventUserRegistered))
	assert.EqualValues(t, 2, scalar("SELECT count(*) FROM payments.event_outbox WHERE type = $1", payments.EventPaymentCaptured))
	assert.EqualValues(t, 1, scalar("SELECT count(*) FROM payments.event_outbox WHERE type = $1", payments.EventPaymentRefunded))
	assert.EqualValues(t, 2, scalar("SELECT count(*) FROM orders.event_outbox WHERE type = $1", orders.EventOrderPlaced))
}
