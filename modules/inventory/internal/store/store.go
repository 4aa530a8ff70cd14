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
func (s *Store) InTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, func(_ context.Context, tx bun.Tx) error { return fn(tx) })
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

// Take moves quantity of the SKU from available to reserved; false when
// less is available (or the SKU is not stocked): the row is left alone.
func Take(ctx context.Context, tx bun.Tx, sku string, quantity int64) (bool, error) {
	res, err := tx.NewUpdate().Model((*stockRow)(nil)).
		Set("available = available - ?", quantity).
		Set("reserved = reserved + ?", quantity).
		Where("sku = ?", sku).
		Where("available >= ?", quantity).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("take stock: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Stocked reports whether the SKU has a stock row.
func Stocked(ctx context.Context, tx bun.Tx, sku string) (bool, error) {
	ok, err := tx.NewSelect().Model((*stockRow)(nil)).Where("sku = ?", sku).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("find sku: %w", err)
	}
	return ok, nil
}

// Count names one of stock's counts, for Move.
type Count string

// The counts stock moves between.
const (
	Available Count = "available"
	Reserved  Count = "reserved"
	Sold      Count = "sold"
)

// Move moves each item's quantity from one count of its SKU to another;
// the CHECK constraints refuse a count going negative.
func Move(ctx context.Context, tx bun.Tx, items []inventory.Item, from, to Count) error {
	for _, it := range items {
		_, err := tx.NewUpdate().Model((*stockRow)(nil)).
			Set("? = ? - ?", bun.Ident(from), bun.Ident(from), it.Quantity).
			Set("? = ? + ?", bun.Ident(to), bun.Ident(to), it.Quantity).
			Where("sku = ?", it.SKU).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("move %s from %s to %s: %w", it.SKU, from, to, err)
		}
	}
	return nil
}

// isNoRows reports an empty result.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
