package e2e

import (
	"testing"

	"mitosis/modules/gateway"
)

// theRest is the compose split's shape: users and payments in a process
// each, every other module in the process of the rest
// (SERVICES=-gateway,-users,-payments: orders and inventory today, and a
// module added since), and a gateway in front that is given USERS_URL and
// PAYMENTS_URL only and finds the rest at OTHER_MODULES_URL.
func theRest(t *testing.T, sharedDB string) topology {
	sp := startSplit(t, sharedDB, "", nil, map[string]string{"SERVICES": "-gateway,-users,-payments"})
	rest := splitTopology(sp, nil) // its third process runs orders and inventory, as its health shows
	g := startApp(t, "gateway", map[string]string{
		"SERVICES": "gateway", "SERVICE_SECRET": serviceSecret,
		"USERS_URL": rest.users, "PAYMENTS_URL": rest.payments, "OTHER_MODULES_URL": sp.orders.url,
	})
	g.waitReady(t)
	return topology{
		users: g.url, payments: g.url, orders: g.url, inventory: g.url, gateway: gateway.WhereRemote,
		processes: append(rest.processes, healthWant{url: g.url, admin: g.admin, gateway: true,
			checks: map[string][]string{"gateway": {"orders", "payments", "users"}}}),
	}
}
