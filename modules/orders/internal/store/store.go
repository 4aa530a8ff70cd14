package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// ErrDuplicateKey means a concurrent order with the same idempotency key won.
var ErrDuplicateKey = errors.New("order with this idempotency key exists")

// Insert stores a new order with its items, its saga (held by the placing
// request) and its order.placed event in one transaction.
func (s *Store) Insert(ctx context.Context, o orders.Order, key, hash string, sg NewSaga) error {
	row := toRow(o, key, hash)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&row.Items).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO sagas (order_id, step, attempts, deadline_at, lease_owner, lease_until, next_attempt_at, trace_parent)
			VALUES (?, ?, ?, now() + ? * interval '1 millisecond', nullif(?, ''), now() + ? * interval '1 millisecond',
				now() + ? * interval '1 millisecond', ?)`,
			o.ID, sg.Step, sg.Attempts, sg.Deadline.Milliseconds(), sg.Owner, sg.Lease.Milliseconds(), sg.RetryIn.Milliseconds(),
			sg.TraceParent).Exec(ctx); err != nil {
			return err
		}
		for _, out := range sg.Done {
			if err := appendStep(ctx, tx, o.ID, out); err != nil {
				return err
			}
		}
		return publish(ctx, tx, orders.EventOrderPlaced, o.ID,
			orders.OrderPlaced{OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents})
	})
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

// transition settles an order: pending or confirmed to cancelled, or
// pending to confirmed, with its event (order.confirmed or order.cancelled)
// in the caller's transaction. It reports whether the order moved.
func transition(ctx context.Context, tx bun.Tx, orderID, to string, at time.Time, paymentID, reason *string) (bool, error) {
	var row orderRow
	err := tx.NewSelect().Model(&row).Column("status", "customer_id", "total_cents").
		Where("id = ?", orderID).For("UPDATE").Scan(ctx)
	if err != nil {
		return false, err
	}
	from := row.Status
	if from == to || from == orders.StatusCancelled {
		return false, nil
	}
	q := tx.NewUpdate().Model((*orderRow)(nil)).
		Set("status = ?", to).Set("updated_at = ?", at).Where("id = ?", orderID)
	if paymentID != nil {
		q = q.Set("payment_id = ?", *paymentID)
	}
	if reason != nil {
		q = q.Set("failure_reason = ?", *reason)
	}
	if _, err := q.Exec(ctx); err != nil {
		return false, err
	}
	switch to {
	case orders.StatusConfirmed:
		return true, publish(ctx, tx, orders.EventOrderConfirmed, orderID, orders.OrderConfirmed{
			OrderID: orderID, CustomerID: row.CustomerID, TotalCents: row.TotalCents, PaymentID: deref(paymentID)})
	default:
		return true, publish(ctx, tx, orders.EventOrderCancelled, orderID, orders.OrderCancelled{
			OrderID: orderID, CustomerID: row.CustomerID, TotalCents: row.TotalCents, PreviousStatus: from, Reason: deref(reason)})
	}
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
