package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"mitosis/modules/orders"
	"mitosis/platform/events"
)

// Store reads and writes the orders schema.
type Store struct{ db *bun.DB }

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// ErrDuplicateKey means a concurrent order with the same idempotency key won.
var ErrDuplicateKey = errors.New("order with this idempotency key exists")

// Products returns the catalog, or the named SKUs when skus is not empty.
func (s *Store) Products(ctx context.Context, skus ...string) ([]orders.Product, error) {
	var rows []productRow
	q := s.db.NewSelect().Model(&rows).Order("sku")
	if len(skus) > 0 {
		q = q.Where("sku IN (?)", bun.In(skus))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("select products: %w", err)
	}
	out := make([]orders.Product, 0, len(rows))
	for _, r := range rows {
		out = append(out, orders.Product{SKU: r.SKU, Name: r.Name, PriceCents: r.PriceCents})
	}
	return out, nil
}

// Insert stores a new order with its items and its order.placed event in
// one transaction.
func (s *Store) Insert(ctx context.Context, o orders.Order, key, hash string) error {
	row := toRow(o, key, hash)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&row.Items).Exec(ctx); err != nil {
			return err
		}
		return publish(ctx, tx, orders.EventOrderPlaced, o.ID,
			orders.OrderPlaced{OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
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

// Page is a position in a customer's orders, newest first.
type Page struct {
	Before   time.Time
	BeforeID string
	Limit    int
}

// List returns up to page.Limit orders older than the cursor position, of
// one customer, or of all when customerID is empty.
func (s *Store) List(ctx context.Context, customerID string, page Page) ([]orders.Order, error) {
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

// Transition moves an order from one status to another and reports whether
// it did: the condition on the current status makes each move happen once.
// The move and its event (order.confirmed or order.cancelled) commit
// together.
func (s *Store) Transition(ctx context.Context, orderID, from, to string, paymentID, reason *string) (bool, error) {
	moved := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var row orderRow
		q := tx.NewUpdate().Model(&row).
			Set("status = ?", to).Set("updated_at = now()").
			Where("id = ? AND status = ?", orderID, from).
			Returning("customer_id, total_cents")
		if paymentID != nil {
			q = q.Set("payment_id = ?", *paymentID)
		}
		if reason != nil {
			q = q.Set("failure_reason = ?", *reason)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		moved = true
		switch to {
		case orders.StatusConfirmed:
			return publish(ctx, tx, orders.EventOrderConfirmed, orderID, orders.OrderConfirmed{
				OrderID: orderID, CustomerID: row.CustomerID, TotalCents: row.TotalCents, PaymentID: deref(paymentID)})
		case orders.StatusCancelled:
			return publish(ctx, tx, orders.EventOrderCancelled, orderID, orders.OrderCancelled{
				OrderID: orderID, CustomerID: row.CustomerID, TotalCents: row.TotalCents, PreviousStatus: from, Reason: deref(reason)})
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("update order: %w", err)
	}
	return moved, nil
}

func publish(ctx context.Context, tx bun.Tx, eventType, orderID string, payload any) error {
	return events.Append(ctx, tx, "orders", eventType, orderID, payload)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
