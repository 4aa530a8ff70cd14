package orders_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
)

// stockRig is orders beside its dependencies in one of two topologies:
// inventory in orders' own process, or in the other one, called over HTTP.
// Payments always runs in the other process, behind a gate that can make
// it unreachable.
type stockRig struct {
	orders   orders.Service
	stock    inventory.Service
	customer string
	closed   *atomic.Bool // the payments gate refuses every call
}

func newStockRig(t *testing.T, split bool, env map[string]string) stockRig {
	t.Helper()
	var (
		usersSvc users.Service
		stock    inventory.Service
		ordersSv orders.Service
	)
	depsServices, ordersServices := "users,payments", "orders,"+inventory.Name
	if split {
		depsServices, ordersServices = "users,payments,"+inventory.Name, "orders"
	}
	deps := modulestest.Start(t, map[string]string{"SERVICES": depsServices}, &usersSvc)

	closed := &atomic.Bool{}
	target, err := url.Parse(deps.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if closed.Load() {
			http.Error(w, "payments unreachable", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)

	vars := map[string]string{
		"SERVICES": ordersServices, "DATABASE_URL": deps.DB,
		"USERS_URL": deps.URL, "PAYMENTS_URL": gate.URL, "INVENTORY_URL": deps.URL,
	}
	for k, v := range env {
		vars[k] = v
	}
	// Inventory's contract as orders' process holds it: local or a client.
	modulestest.Start(t, vars, &ordersSv, &stock)

	u, err := usersSvc.Register(context.Background(), users.RegisterRequest{Email: userstest.Email(), Name: "Ada", Password: "password1"})
	require.NoError(t, err)
	return stockRig{orders: ordersSv, stock: stock, customer: u.ID, closed: closed}
}

// mugs is the mug's stock: available, reserved, sold.
func (r stockRig) mugs(t *testing.T) [3]int64 {
	t.Helper()
	list, err := r.stock.GetStock(context.Background(), inventory.StockRequest{SKUs: []string{"MUG-CERAMIC"}})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	st := list.Items[0]
	return [3]int64{st.Available, st.Reserved, st.Sold}
}

func steps(t *testing.T, svc orders.Service, o orders.Order) []string {
	t.Helper()
	h, err := svc.GetOrderHistory(context.Background(), orders.GetOrderRequest{CustomerID: o.CustomerID, OrderID: o.ID})
	require.NoError(t, err)
	var out []string
	for _, s := range h.Steps {
		out = append(out, s.Step+" "+s.Outcome)
	}
	return out
}

var topologies = map[string]bool{"inventory in orders' process": false, "inventory in another process": true}

// An order for more than inventory has is cancelled out_of_stock before
// anything is charged, whether the saga asks inventory in its process or
// over HTTP, and the stock another order holds stays held.
func TestOutOfStockInEveryTopology(t *testing.T) {
	for name, split := range topologies {
		t.Run(name, func(t *testing.T) {
			r := newStockRig(t, split, nil)
			ctx := context.Background()
			before := r.mugs(t)
			_, err := r.stock.Reserve(ctx, inventory.ReserveRequest{OrderID: uuid.NewString(),
				Items: []inventory.Item{{SKU: "MUG-CERAMIC", Quantity: before[0]}}})
			require.NoError(t, err)

			o, err := r.orders.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: r.customer, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
			require.NoError(t, err)
			assert.Equal(t, orders.StatusCancelled, o.Status)
			require.NotNil(t, o.FailureReason)
			assert.Equal(t, orders.ReasonOutOfStock, *o.FailureReason)
			assert.Nil(t, o.PaymentID)
			assert.Equal(t, []string{"check_customer succeeded", "reserve_stock failed", "release_stock succeeded", "cancel succeeded"}, steps(t, r.orders, o))
			assert.Equal(t, [3]int64{0, before[0] + before[1], before[2]}, r.mugs(t))
		})
	}
}

// An order whose payment did not go through before its deadline gives its
// stock back once payments answers again, whether inventory runs in
// orders' process or in another.
func TestADeadlinePassedReleasesTheStockInEveryTopology(t *testing.T) {
	for name, split := range topologies {
		t.Run(name, func(t *testing.T) {
			r := newStockRig(t, split, map[string]string{
				"SAGA_DEADLINE": "300ms", "SAGA_INLINE_TIMEOUT": "1s", "SAGA_RECOVERY_INTERVAL": "50ms", "SAGA_BACKOFF_MAX": "100ms",
				// The breaker the refused charges open lets payments back soon.
				"BREAKER_COOLDOWN": "200ms",
			})
			ctx := context.Background()
			before := r.mugs(t)
			r.closed.Store(true)
			o, err := r.orders.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: r.customer, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
			require.NoError(t, err)
			require.Equal(t, orders.StatusPending, o.Status)
			assert.Equal(t, [3]int64{before[0] - 1, before[1] + 1, before[2]}, r.mugs(t), "held while it is paid")
			time.Sleep(300 * time.Millisecond) // past the deadline, payments still unreachable
			r.closed.Store(false)

			var got orders.Order
			require.Eventually(t, func() bool {
				got, err = r.orders.GetOrder(ctx, orders.GetOrderRequest{CustomerID: r.customer, OrderID: o.ID})
				require.NoError(t, err)
				return got.Status != orders.StatusPending
			}, 20*time.Second, 50*time.Millisecond)
			assert.Equal(t, orders.StatusCancelled, got.Status)
			require.NotNil(t, got.FailureReason)
			assert.Equal(t, orders.ReasonDeadlineExceeded, *got.FailureReason)
			h := steps(t, r.orders, o)
			assert.Equal(t, []string{"void_charge succeeded", "release_stock succeeded", "cancel succeeded"}, h[len(h)-3:])
			assert.Equal(t, before, r.mugs(t), "the stock given back")
		})
	}
}
