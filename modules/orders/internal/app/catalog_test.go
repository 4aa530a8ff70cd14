package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheCatalogCopyShowsNewProductsAtOnceAndPricesSoon: orders prices
// from a copy of the catalog, which a SKU it lacks refreshes.
func TestTheCatalogCopyShowsNewProductsAtOnceAndPricesSoon(t *testing.T) {
	e := newEnv(t, sagaConfig())
	ctx := context.Background()
	all, err := e.store.Products(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, all)

	_, err = e.db.ExecContext(ctx, "INSERT INTO products (sku, name, price_cents) VALUES ('NEW-1', 'New', 100)")
	require.NoError(t, err)
	got, err := e.store.Products(ctx, "NEW-1", all[0].SKU)
	require.NoError(t, err)
	require.Len(t, got, 2, "a SKU missing from the copy reads the catalog again")
	assert.Equal(t, []string{all[0].SKU, "NEW-1"}, []string{got[0].SKU, got[1].SKU}, "in SKU order")
	assert.Equal(t, int64(100), got[1].PriceCents)

	_, err = e.db.ExecContext(ctx, "UPDATE products SET price_cents = 200 WHERE sku = 'NEW-1'")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := e.store.Products(ctx, "NEW-1")
		require.NoError(t, err)
		return got[0].PriceCents == 200
	}, 5*time.Second, 50*time.Millisecond, "a price change shows within the copy's life")

	expired, cancel := context.WithCancel(ctx)
	cancel()
	_, err = e.store.Products(expired, "NEW-1")
	require.ErrorIs(t, err, context.Canceled, "a copy does not answer a call that has ended")
}
