package inventory_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/inventorytest"
	"mitosis/modules/modulestest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestContract runs the contract suite on the local implementation (direct,
// and strict: every call through the codec), and on the HTTP client against
// the real handlers on loopback.
func TestContract(t *testing.T) {
	// Only inventory: it calls no other module.
	p := modulestest.Contract(t, inventory.Name, map[string]string{"SERVICES": inventory.Name}, inventorytest.Run)
	// Whatever the suite did, every SKU's held and sold counts are what its
	// reservations say.
	assert.NotEmpty(t, auditStock(t, p.DB))
}

// auditStock proves in SQL that each SKU's reserved and sold counts are the
// sums of its reserved and committed reservations' lines; it returns the
// SKUs it checked.
func auditStock(t *testing.T, dbURL string) map[string][2]int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	query := func(sql string) map[string][2]int64 {
		t.Helper()
		rows, err := conn.Query(ctx, sql)
		require.NoError(t, err)
		out := map[string][2]int64{}
		for rows.Next() {
			var (
				sku            string
				reserved, sold int64
			)
			require.NoError(t, rows.Scan(&sku, &reserved, &sold))
			out[sku] = [2]int64{reserved, sold}
		}
		require.NoError(t, rows.Err())
		return out
	}
	counts := query("SELECT sku, reserved, sold FROM inventory.stock")
	held := query(`SELECT s.sku,
		coalesce(sum(l.quantity) FILTER (WHERE r.status = 'reserved'), 0)::bigint,
		coalesce(sum(l.quantity) FILTER (WHERE r.status = 'committed'), 0)::bigint
		FROM inventory.stock s
		LEFT JOIN inventory.reservation_lines l ON l.sku = s.sku
		LEFT JOIN inventory.reservations r ON r.order_id = l.order_id
		GROUP BY s.sku`)
	require.Equal(t, held, counts, "stock counts differ from the reservations")
	return counts
}

// TestStockNeverNegative proves the database itself refuses what the
// domain never asks: a count below zero, or counts that do not add up.
func TestStockNeverNegative(t *testing.T) {
	var svc inventory.Service
	p := modulestest.Start(t, map[string]string{"SERVICES": "inventory"}, &svc)
	ctx := context.Background()
	_, err := svc.Restock(ctx, inventory.RestockRequest{SKU: "CHECKED", Quantity: 1})
	require.NoError(t, err)

	conn, err := pgx.Connect(ctx, p.DB)
	require.NoError(t, err)
	defer conn.Close(ctx)
	for name, sql := range map[string]string{
		"oversold":         "UPDATE inventory.stock SET available = available - 2, reserved = reserved + 2 WHERE sku = 'CHECKED'",
		"counts not added": "UPDATE inventory.stock SET available = available + 1 WHERE sku = 'CHECKED'",
		"negative stocked": "UPDATE inventory.stock SET stocked = -1, available = -1 WHERE sku = 'CHECKED'",
	} {
		_, err := conn.Exec(ctx, sql)
		require.ErrorContains(t, err, "check constraint", name)
	}
	list, err := svc.GetStock(ctx, inventory.StockRequest{SKUs: []string{"CHECKED"}})
	require.NoError(t, err)
	assert.Equal(t, []inventory.Stock{{SKU: "CHECKED", Stocked: 1, Available: 1}}, list.Items)
}
