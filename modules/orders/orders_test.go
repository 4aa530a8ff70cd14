package orders_test

import (
	"testing"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/orders/orderstest"
	"mitosis/modules/payments"
	"mitosis/modules/users"
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
