package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/page"
)

// Store reads and writes the orders schema.
type Store struct {
	db      *bun.DB
	catalog catalog
}

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// InTx runs fn in one transaction: the only place the store opens one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return events.InTx(ctx, s.db, fn)
}

// ErrDuplicateKey means a concurrent order with the same idempotency key won.
var ErrDuplicateKey = errors.New("order with this idempotency key exists")

const insertOrder = db.Statement(`WITH o AS (
		INSERT INTO orders (id, customer_id, status, total_cents, payment_id, failure_reason, idempotency_key, request_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id)
	INSERT INTO order_items (order_id, line, sku, name, quantity, unit_price_cents)
	SELECT o.id, i.line, i.sku, i.name, i.quantity, i.unit_price_cents
	FROM o, unnest($11::int[], $12::text[], $13::text[], $14::int[], $15::bigint[]) AS i (line, sku, name, quantity, unit_price_cents)`)

// InsertOrder stores a new order with its items, in one statement, placed
// with the idempotency key (none when empty) by the request of hash;
// ErrDuplicateKey if the customer has an order with that key.
func InsertOrder(ctx context.Context, idb bun.IDB, o orders.Order, key, hash string) error {
	row := toRow(o, key, hash)
	lines, skus, names, quantities, prices := make([]int, len(row.Items)), make([]string, len(row.Items)),
		make([]string, len(row.Items)), make([]int, len(row.Items)), make([]int64, len(row.Items))
	for i, it := range row.Items {
		lines[i], skus[i], names[i], quantities[i], prices[i] = it.Line, it.SKU, it.Name, it.Quantity, it.UnitPriceCents
	}
	_, err := insertOrder.Exec(ctx, idb, row.ID, row.CustomerID, row.Status, row.TotalCents, row.PaymentID,
		row.FailureReason, row.IdempotencyKey, row.RequestHash, row.CreatedAt, row.UpdatedAt,
		lines, skus, names, quantities, prices)
	if db.IsUniqueViolation(err) {
		return ErrDuplicateKey
	}
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	return nil
}

// ByKey finds the customer's order placed with an idempotency key, and the
// hash of the request that placed it.
func (s *Store) ByKey(ctx context.Context, customerID, key string) (orders.Order, string, error) {
	var row orderRow
	err := s.db.NewSelect().Model(&row).Relation("Items", orderItems).
		Where("customer_id = ? AND idempotency_key = ?", customerID, key).Scan(ctx)
	o, err := found(row, err)
	return o, row.RequestHash, err
}

// Get finds one of the customer's orders.
func (s *Store) Get(ctx context.Context, customerID, orderID string) (orders.Order, error) {
	var row orderRow
	err := s.db.NewSelect().Model(&row).Relation("Items", orderItems).
		Where("o.id = ? AND customer_id = ?", orderID, customerID).Scan(ctx)
	return found(row, err)
}

// List returns up to page.Limit orders older than the cursor position, of
// one customer, or of all when customerID is empty.
func (s *Store) List(ctx context.Context, customerID string, page page.Keyset) ([]orders.Order, error) {
	var rows []orderRow
	q := s.db.NewSelect().Model(&rows).Relation("Items", orderItems).
		OrderExpr("o.created_at DESC, o.id DESC").Limit(int64(page.Limit))
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	if page.BeforeID != "" {
		q = q.Where("(o.created_at, o.id) < (?, ?)", page.Before, page.BeforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := make([]orders.Order, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toOrder())
	}
	return out, nil
}

func orderItems(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("line") }

func found(row orderRow, err error) (orders.Order, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return orders.Order{}, orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("select order: %w", err)
	}
	return row.toOrder(), nil
}
