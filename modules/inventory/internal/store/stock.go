package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
	"mitosis/platform/db"
)

// Each statement here moves the stock of several SKUs at once. The rows
// are locked first, in SKU order, by a subquery's FOR NO KEY UPDATE (the
// lock an UPDATE takes; an UPDATE alone locks its rows in whatever order
// its plan meets them), so two statements over the same SKUs never
// deadlock; the subquery reads each row as it is once locked, after any
// concurrent change committed.

const takeAll = db.Statement(`UPDATE stock SET available = stock.available - w.quantity, reserved = stock.reserved + w.quantity
	FROM (SELECT s.sku, s.available, w.quantity FROM stock s
		JOIN unnest($1::text[], $2::bigint[]) AS w (sku, quantity) ON w.sku = s.sku
		ORDER BY s.sku FOR NO KEY UPDATE OF s) w
	WHERE stock.sku = w.sku AND w.available >= w.quantity
	RETURNING stock.sku`)

// TakeAll moves each item's quantity of its SKU from available to
// reserved, in one statement, where at least that much is available; it
// returns the SKUs it took. An SKU short or not stocked is left alone:
// the caller rolls the transaction back when one is missing, so the
// reservation holds all of its items or none.
func TakeAll(ctx context.Context, tx bun.Tx, items []inventory.Item) (map[string]bool, error) {
	skus, quantities := columns(items)
	var taken []string
	err := takeAll.Scan(ctx, tx, &taken, skus, quantities)
	if err != nil {
		return nil, fmt.Errorf("take stock: %w", err)
	}
	out := make(map[string]bool, len(taken))
	for _, sku := range taken {
		out[sku] = true
	}
	return out, nil
}

// Stocked reports whether the SKU has a stock row.
func Stocked(ctx context.Context, tx bun.Tx, sku string) (bool, error) {
	ok, err := tx.NewSelect().Model((*stockRow)(nil)).Where("sku = ?", sku).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("find sku: %w", err)
	}
	return ok, nil
}

// Count names one of stock's counts, for MoveLines.
type Count string

// The counts stock moves between.
const (
	Available Count = "available"
	Reserved  Count = "reserved"
	Sold      Count = "sold"
)

// MoveLines moves each line of the order's reservation, its quantity,
// from one count of its SKU to another, in one statement, and returns the
// lines by SKU; the CHECK constraints refuse a count going negative.
func MoveLines(ctx context.Context, tx bun.Tx, orderID string, from, to Count) ([]inventory.Item, error) {
	var lines []lineRow
	err := tx.NewRaw(`UPDATE stock SET ? = stock.? - l.quantity, ? = stock.? + l.quantity
		FROM (SELECT l.sku, l.quantity FROM reservation_lines l JOIN stock s ON s.sku = l.sku
			WHERE l.order_id = ? ORDER BY l.sku FOR NO KEY UPDATE OF s) l
		WHERE stock.sku = l.sku
		RETURNING l.sku, l.quantity`,
		bun.Ident(from), bun.Ident(from), bun.Ident(to), bun.Ident(to), orderID).Scan(ctx, &lines)
	if err != nil {
		return nil, fmt.Errorf("move %s's stock from %s to %s: %w", orderID, from, to, err)
	}
	items := make([]inventory.Item, 0, len(lines))
	for _, l := range lines {
		items = append(items, inventory.Item{SKU: l.SKU, Quantity: l.Quantity})
	}
	slices.SortFunc(items, func(a, b inventory.Item) int { return strings.Compare(a.SKU, b.SKU) })
	return items, nil
}

func columns(items []inventory.Item) ([]string, []int64) {
	skus, quantities := make([]string, len(items)), make([]int64, len(items))
	for i, it := range items {
		skus[i], quantities[i] = it.SKU, it.Quantity
	}
	return skus, quantities
}
