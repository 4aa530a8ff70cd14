// Package store reads and writes the orders schema: bun rows beside their
// converters, and the statements the domain asks for. It persists what it
// is told; the domain (internal/app) decides, the saga's states and steps
// included.
package store

import (
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
)

type productRow struct {
	bun.BaseModel `bun:"table:products"`

	SKU        string `bun:"sku,pk"`
	Name       string `bun:"name"`
	PriceCents int64  `bun:"price_cents"`
}

type orderRow struct {
	bun.BaseModel `bun:"table:orders,alias:o"`

	ID             string    `bun:"id,pk"`
	CustomerID     string    `bun:"customer_id"`
	Status         string    `bun:"status"`
	TotalCents     int64     `bun:"total_cents"`
	PaymentID      *string   `bun:"payment_id"`
	FailureReason  *string   `bun:"failure_reason"`
	IdempotencyKey *string   `bun:"idempotency_key"`
	RequestHash    string    `bun:"request_hash"`
	CreatedAt      time.Time `bun:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at"`
	Items          []itemRow `bun:"rel:has-many,join:id=order_id"`
}

type itemRow struct {
	bun.BaseModel `bun:"table:order_items"`

	OrderID        string `bun:"order_id,pk"`
	Line           int    `bun:"line,pk"`
	SKU            string `bun:"sku"`
	Name           string `bun:"name"`
	Quantity       int    `bun:"quantity"`
	UnitPriceCents int64  `bun:"unit_price_cents"`
}

func (r orderRow) toOrder() orders.Order {
	o := orders.Order{
		ID: r.ID, CustomerID: r.CustomerID, Status: r.Status, TotalCents: r.TotalCents,
		PaymentID: r.PaymentID, FailureReason: r.FailureReason,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Items: make([]orders.OrderItem, 0, len(r.Items)),
	}
	for _, it := range r.Items {
		o.Items = append(o.Items, orders.OrderItem{
			SKU: it.SKU, Name: it.Name, Quantity: it.Quantity,
			UnitPriceCents: it.UnitPriceCents, LineTotalCents: it.UnitPriceCents * int64(it.Quantity),
		})
	}
	return o
}

func toRow(o orders.Order, key, hash string) orderRow {
	r := orderRow{
		ID: o.ID, CustomerID: o.CustomerID, Status: o.Status, TotalCents: o.TotalCents,
		PaymentID: o.PaymentID, FailureReason: o.FailureReason, RequestHash: hash,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
	if key != "" {
		r.IdempotencyKey = &key
	}
	for i, it := range o.Items {
		r.Items = append(r.Items, itemRow{OrderID: o.ID, Line: i + 1, SKU: it.SKU, Name: it.Name,
			Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents})
	}
	return r
}
