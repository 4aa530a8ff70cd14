package orders_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/orders/orderstest"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestContract(t *testing.T) {
	var (
		ordersSvc   orders.Service
		usersSvc    users.Service
		paymentsSvc payments.Service
	)
	p := modulestest.Start(t, nil, &ordersSvc, &usersSvc, &paymentsSvc)

	t.Run("in-process", func(t *testing.T) {
		orderstest.Run(t, orderstest.Deps{Orders: ordersSvc, Users: usersSvc, Payments: paymentsSvc})
	})
	t.Run("in-process strict", func(t *testing.T) {
		var (
			o   orders.Service
			u   users.Service
			pay payments.Service
		)
		modulestest.Start(t, map[string]string{"LOCAL_CALLS": "strict"}, &o, &u, &pay)
		orderstest.Run(t, orderstest.Deps{Orders: o, Users: u, Payments: pay})
	})
	t.Run("http", func(t *testing.T) {
		var (
			o   orders.Service
			u   users.Service
			pay payments.Service
		)
		modulestest.Clients(t, map[string]string{"orders": p.URL, "users": p.URL, "payments": p.URL}, &o, &u, &pay)
		orderstest.Run(t, orderstest.Deps{Orders: o, Users: u, Payments: pay})
	})
}

// TestSplitProcesses runs orders in a process of its own, calling users and
// payments in another over HTTP, both on one database.
func TestSplitProcesses(t *testing.T) {
	var (
		usersSvc    users.Service
		paymentsSvc payments.Service
		ordersSvc   orders.Service
	)
	deps := modulestest.Start(t, map[string]string{"SERVICES": "users,payments"}, &usersSvc, &paymentsSvc)
	modulestest.Start(t, map[string]string{
		"SERVICES":     "orders",
		"USERS_URL":    deps.URL,
		"PAYMENTS_URL": deps.URL,
		"DATABASE_URL": deps.DB,
	}, &ordersSvc)

	orderstest.Run(t, orderstest.Deps{Orders: ordersSvc, Users: usersSvc, Payments: paymentsSvc})
}

// TestPendingWhilePaymentsIsUnreachable places orders in a process whose
// payments does not answer: the order is stored and pending, with the same
// answer in-process and over HTTP, and its history says the charge waits.
func TestPendingWhilePaymentsIsUnreachable(t *testing.T) {
	var usersSvc users.Service
	dead := deadURL(t)
	deps := modulestest.Start(t, map[string]string{"SERVICES": "users", "PAYMENTS_URL": dead}, &usersSvc)
	var local orders.Service
	p := modulestest.Start(t, map[string]string{
		"SERVICES":            "orders",
		"USERS_URL":           deps.URL,
		"PAYMENTS_URL":        dead,
		"DATABASE_URL":        deps.DB,
		"SAGA_INLINE_TIMEOUT": "1s",
	}, &local)
	var remote orders.Service
	modulestest.Clients(t, map[string]string{"orders": p.URL}, &remote)
	u, err := usersSvc.Register(context.Background(), users.RegisterRequest{Email: userstest.Email(), Name: "Ada", Password: "password1"})
	require.NoError(t, err)

	for name, svc := range map[string]orders.Service{"in-process": local, "http": remote} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			start := time.Now()
			o, err := svc.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: u.ID, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
			require.NoError(t, err)
			assert.Less(t, time.Since(start), 3*time.Second, "answered within the inline timeout")
			assert.Equal(t, orders.StatusPending, o.Status)
			assert.Nil(t, o.PaymentID)
			got, err := svc.GetOrder(ctx, orders.GetOrderRequest{CustomerID: u.ID, OrderID: o.ID})
			require.NoError(t, err)
			assert.Equal(t, o, got)
			h, err := svc.GetOrderHistory(ctx, orders.GetOrderRequest{CustomerID: u.ID, OrderID: o.ID})
			require.NoError(t, err)
			require.NotEmpty(t, h.Steps)
			assert.Equal(t, orders.StepCheckCustomer, h.Steps[0].Step)
			last := h.Steps[len(h.Steps)-1]
			assert.Equal(t, orders.StepCharge, last.Step)
			assert.Equal(t, orders.OutcomeRetrying, last.Outcome)
			require.NotNil(t, h.NextStep)
			assert.Equal(t, orders.StepCharge, *h.NextStep)
		})
	}
}

// deadURL is the address of a port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}
