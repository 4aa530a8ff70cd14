package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
)

// restockRow is a row of restocks: a keyed restock, recorded so that its
// repeat adds nothing.
type restockRow struct {
	bun.BaseModel `bun:"table:restocks"`

	Key       string    `bun:"idempotency_key,pk"`
	SKU       string    `bun:"sku"`
	Quantity  int64     `bun:"quantity"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}

// InsertRestock records a keyed restock; when the key is taken it returns
// the restock that took it, and false (a second insert at once waits for
// the first, then finds it).
func InsertRestock(ctx context.Context, tx bun.Tx, key, sku string, quantity int64) (inventory.Item, bool, error) {
	row := restockRow{Key: key, SKU: sku, Quantity: quantity}
	res, err := tx.NewInsert().Model(&row).On("CONFLICT (idempotency_key) DO NOTHING").Exec(ctx)
	if err != nil {
		return inventory.Item{}, false, fmt.Errorf("insert restock: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return inventory.Item{SKU: sku, Quantity: quantity}, n == 1, err
	}
	var first restockRow
	if err := tx.NewSelect().Model(&first).Where("idempotency_key = ?", key).Scan(ctx); err != nil {
		return inventory.Item{}, false, fmt.Errorf("find restock: %w", err)
	}
	return inventory.Item{SKU: first.SKU, Quantity: first.Quantity}, false, nil
}
