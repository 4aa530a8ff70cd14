package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
)

// restock: only an admin restocks, a delivery adds to what is available
// (once per Idempotency-Key), bad input is a problem naming the field, and any signed-in caller reads
// the stock, whose counts always add up.
func restock(t *testing.T, topo topology, customer, admin string) {
	const sku = "COFFEE-1KG"
	path := "/api/v1/inventory/stock/" + sku + "/restock"
	before := stockOf(t, topo, customer, sku)

	requireProblem(t, topo.post(t, path, "", map[string]any{"quantity": 5}), http.StatusUnauthorized, "unauthorized")
	requireProblem(t, topo.post(t, path, customer, map[string]any{"quantity": 5}), http.StatusForbidden, "forbidden")
	requireProblem(t, topo.post(t, path, admin, map[string]any{"quantity": 0}), http.StatusUnprocessableEntity, "validation_failed", "quantity")
	requireProblem(t, topo.post(t, path, admin, map[string]any{"quantity": "five"}), http.StatusBadRequest, "bad_request")
	require.Equal(t, before, stockOf(t, topo, customer, sku), "nothing refused changed the stock")

	after := decode[inventory.Stock](t, topo.post(t, path, admin, map[string]any{"quantity": 5}), http.StatusOK)
	before.Stocked, before.Available = before.Stocked+5, before.Available+5
	require.Equal(t, before, after)
	require.Equal(t, after, stockOf(t, topo, customer, sku))

	// With an Idempotency-Key a repeated delivery adds once; the key for
	// another quantity is a conflict.
	keyed := func(quantity int) response {
		return topo.do(t, request{method: http.MethodPost, path: path, token: admin,
			body: map[string]any{"quantity": quantity}, header: map[string]string{"Idempotency-Key": "delivery-1"}})
	}
	once := decode[inventory.Stock](t, keyed(2), http.StatusOK)
	require.Equal(t, after.Stocked+2, once.Stocked)
	require.Equal(t, once, decode[inventory.Stock](t, keyed(2), http.StatusOK), "a repeat adds nothing")
	requireProblem(t, keyed(3), http.StatusConflict, inventory.ErrIdempotencyConflict.Code)
	require.Equal(t, once, stockOf(t, topo, customer, sku))

	fresh := decode[inventory.Stock](t, topo.post(t, "/api/v1/inventory/stock/NEW-SKU-1/restock", admin, map[string]any{"quantity": 3}), http.StatusOK)
	require.Equal(t, inventory.Stock{SKU: "NEW-SKU-1", Stocked: 3, Available: 3}, fresh, "a new SKU is created")
	all := decode[inventory.StockList](t, topo.get(t, "/api/v1/inventory/stock", customer), http.StatusOK)
	require.GreaterOrEqual(t, len(all.Items), 7, "the catalog's six and the new one")
	requireProblem(t, topo.get(t, "/api/v1/inventory/stock", ""), http.StatusUnauthorized, "unauthorized")
}

// stockOf reads one SKU's stock and checks its counts add up.
func stockOf(t *testing.T, topo topology, token, sku string) inventory.Stock {
	t.Helper()
	list := decode[inventory.StockList](t, topo.get(t, "/api/v1/inventory/stock?sku="+sku, token), http.StatusOK)
	require.Len(t, list.Items, 1)
	st := list.Items[0]
	require.Equal(t, st.Stocked, st.Available+st.Reserved+st.Sold, "%+v", st)
	return st
}
