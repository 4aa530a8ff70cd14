package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/internal/app"
	"mitosis/modules/inventory/internal/store"
	"mitosis/modules/modulestest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Inventory's steps of the order saga send no more statements than they do
// since a reservation's stock moves in one statement for all its lines, and
// a commit or release marks the reservation and moves its stock in two
// (issue 12; two SKUs; before: 6, 7, 8 and 8, and the refusal 6): a
// statement added back fails here, not in a load run.
func TestTheReservationPathsStayWithinTheirStatementBudget(t *testing.T) {
	ctx := context.Background()
	bdb := modulestest.Database(t, inventory.Name, 4)
	var count modulestest.Statements
	svc := app.New(store.New(bdb.WithQueryHook(&count)))

	budget := func(name string, max int) {
		t.Helper()
		got := count.Take().Statements
		t.Logf("%s: %d statements", name, got)
		assert.LessOrEqual(t, got, max, "%s: statements", name)
	}
	items := []inventory.Item{{SKU: "COFFEE-1KG", Quantity: 1}, {SKU: "FILTER-100", Quantity: 2}}
	sold, held := uuid.NewString(), uuid.NewString()

	_, err := svc.Reserve(ctx, inventory.ReserveRequest{OrderID: sold, Items: items})
	require.NoError(t, err)
	budget("reserve", 5)
	r, err := svc.Commit(ctx, inventory.CommitRequest{OrderID: sold})
	require.NoError(t, err)
	assert.Equal(t, inventory.Reservation{OrderID: sold, Status: inventory.StatusCommitted, Items: items}, r)
	budget("commit", 1)
	r, err = svc.Release(ctx, inventory.ReleaseRequest{OrderID: sold})
	require.NoError(t, err)
	assert.Equal(t, inventory.Reservation{OrderID: sold, Status: inventory.StatusReleased, Items: items}, r)
	budget("release of a committed reservation", 5)

	_, err = svc.Reserve(ctx, inventory.ReserveRequest{OrderID: held, Items: items})
	require.NoError(t, err)
	count.Take()
	_, err = svc.Release(ctx, inventory.ReleaseRequest{OrderID: held})
	require.NoError(t, err)
	budget("release of a held reservation", 5)

	_, err = svc.Reserve(ctx, inventory.ReserveRequest{OrderID: uuid.NewString(), Items: []inventory.Item{
		{SKU: "COFFEE-1KG", Quantity: 1}, {SKU: "FILTER-100", Quantity: inventory.MaxQuantity}}})
	require.ErrorIs(t, err, inventory.ErrOutOfStock)
	assert.True(t, strings.HasSuffix(err.Error(), "FILTER-100"), "the short SKU named: %v", err)
	budget("reserve refused", 5)
}
