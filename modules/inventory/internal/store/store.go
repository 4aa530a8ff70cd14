// Package store reads and writes the inventory schema: bun rows beside their
// converters, and the queries the domain asks for. It persists what it is
// told; the domain (internal/app) decides.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
)

// Store reads and writes the inventory schema.
type Store struct{ db *bun.DB }

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// DB is the module's connection, for the store's functions outside a
// transaction.
func (s *Store) DB() bun.IDB { return s.db }

// InTx runs fn in one transaction: the only place the store opens one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// stockRow is a row of stock.
type stockRow struct {
	bun.BaseModel `bun:"table:stock,alias:stock"`

	SKU       string `bun:"sku,pk"`
	Stocked   int64  `bun:"stocked"`
	Available int64  `bun:"available"`
	Reserved  int64  `bun:"reserved"`
	Sold      int64  `bun:"sold"`
}

func fromStockRow(r stockRow) inventory.Stock {
	return inventory.Stock{SKU: r.SKU, Stocked: r.Stocked, Available: r.Available, Reserved: r.Reserved, Sold: r.Sold}
}

// ListStock returns the stock of the SKUs, or of all when skus is empty,
// by SKU.
func ListStock(ctx context.Context, db bun.IDB, skus []string) ([]inventory.Stock, error) {
	var rows []stockRow
	q := db.NewSelect().Model(&rows).Order("sku")
	if len(skus) > 0 {
		q = q.Where("sku IN (?)", bun.In(skus))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	out := make([]inventory.Stock, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromStockRow(r))
	}
	return out, nil
}

// AddStock adds quantity to the SKU's stocked and available counts,
// creating the SKU when it is new.
func AddStock(ctx context.Context, db bun.IDB, sku string, quantity int64) (inventory.Stock, error) {
	row := stockRow{SKU: sku, Stocked: quantity, Available: quantity}
	_, err := db.NewInsert().Model(&row).
		On("CONFLICT (sku) DO UPDATE").
		Set("stocked = stock.stocked + EXCLUDED.stocked").
		Set("available = stock.available + EXCLUDED.available").
		Returning("*").
		Exec(ctx)
	if err != nil {
		return inventory.Stock{}, fmt.Errorf("add stock: %w", err)
	}
	return fromStockRow(row), nil
}

// isNoRows reports an empty result.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
