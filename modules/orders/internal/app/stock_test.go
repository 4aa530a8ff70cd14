package app_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/orders"
)

// An order for more than is available is cancelled out_of_stock before
// anything is charged, and holds no stock; the catalog shows what is left.
func TestAnOrderForMoreThanIsAvailableIsCancelledUncharged(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice := e.customer(t, 50000)
	// Another order holds all but one mug.
	_, err := e.stock.Reserve(e.ctx, inventory.ReserveRequest{OrderID: uuid.NewString(),
		Items: []inventory.Item{{SKU: "MUG-CERAMIC", Quantity: seeded - 1}}})
	require.NoError(t, err)

	o, err := svc.PlaceOrder(e.ctx, orders.PlaceOrderRequest{CustomerID: alice, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 2}}})
	require.NoError(t, err)
	assert.Equal(t, orders.StatusCancelled, o.Status)
	require.NotNil(t, o.FailureReason)
	assert.Equal(t, orders.ReasonOutOfStock, *o.FailureReason)
	assert.Nil(t, o.PaymentID)
	assert.Zero(t, e.wallet.chargeCalls(o.ID), "nothing charged")
	assert.Equal(t, int64(50000), e.balance(t, alice))
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock failed", "release_stock succeeded", "cancel succeeded"}, e.history(t, o))
	assert.Equal(t, [3]int64{1, seeded - 1, 0}, e.mugs(t))

	list, err := svc.ListProducts(e.ctx, orders.ListProductsRequest{})
	require.NoError(t, err)
	for _, p := range list.Items {
		require.NotNil(t, p.Available, p.SKU)
		want := int64(seeded)
		if p.SKU == "MUG-CERAMIC" {
			want = 1
		}
		assert.Equal(t, want, *p.Available, p.SKU)
	}

	// The last mug is still there to sell.
	one, err := svc.PlaceOrder(e.ctx, orders.PlaceOrderRequest{CustomerID: alice, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
	require.NoError(t, err)
	assert.Equal(t, orders.StatusConfirmed, one.Status)
	assert.Equal(t, [3]int64{0, seeded - 1, 1}, e.mugs(t))
}
