// Package inventory is the contract of the inventory module: the stock of
// every SKU, and the reservations orders hold on it. Stock moves between
// three counts that always add up to what was stocked: available, reserved
// (held by an order being paid) and sold (held by a confirmed order).
package inventory

import (
	"context"
	"net/http"

	"mitosis/platform/problem"
)

// Name is the module's name: its spec, schema, routes and codes use it.
const Name = "inventory"

// Service is what other modules and the HTTP API may ask of inventory.
type Service interface {
	// GetStock returns the stock of the named SKUs, or of every SKU when
	// none is named; an SKU it does not stock is left out.
	GetStock(ctx context.Context, in StockRequest) (StockList, error)
	// Restock adds to an SKU's stock (creating the SKU). The same
	// IdempotencyKey adds once: a repeat returns the SKU's stock as it is,
	// and ErrIdempotencyConflict when it names another SKU or quantity.
	// Without a key it is sent at most once.
	Restock(ctx context.Context, in RestockRequest) (Stock, error)
	// Reserve holds the items' stock for the order, all or nothing:
	// ErrOutOfStock when one is short, ErrUnknownSKU for an SKU it does not
	// stock. Keyed by the order: a repeat returns the first reservation,
	// and a released one is ErrReleased (a late repeat cannot take stock
	// back after the order gave it up).
	Reserve(ctx context.Context, in ReserveRequest) (Reservation, error)
	// Release gives the order's stock back, held or sold, exactly once. An
	// order it never reserved for is marked released, so a late Reserve
	// for it holds nothing.
	Release(ctx context.Context, in ReleaseRequest) (Reservation, error)
	// Commit turns the order's held stock into sold stock, exactly once;
	// ErrReservationNotFound when nothing was reserved, ErrReleased when it
	// was given back.
	Commit(ctx context.Context, in CommitRequest) (Reservation, error)
}

// StockRequest is the input of GetStock.
type StockRequest struct {
	SKUs []string `json:"skus,omitempty"`
}

// Stock is one SKU's counts: Available + Reserved + Sold = Stocked.
type Stock struct {
	SKU       string `json:"sku"`
	Stocked   int64  `json:"stocked"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
	Sold      int64  `json:"sold"`
}

// StockList is the output of GetStock, by SKU.
type StockList struct {
	Items []Stock `json:"items"`
}

// RestockRequest is the input of Restock. IdempotencyKey is optional.
type RestockRequest struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// ReserveRequest is the input of Reserve.
type ReserveRequest struct {
	OrderID string `json:"order_id"`
	Items   []Item `json:"items"`
}

// Item is a quantity of one SKU.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// ReleaseRequest is the input of Release.
type ReleaseRequest struct {
	OrderID string `json:"order_id"`
}

// CommitRequest is the input of Commit.
type CommitRequest struct {
	OrderID string `json:"order_id"`
}

// Reservation statuses.
const (
	StatusReserved  = "reserved"
	StatusCommitted = "committed"
	StatusReleased  = "released"
)

// Reservation is what an order holds: its items, by SKU, and whether they
// are held, sold, or given back.
type Reservation struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Items   []Item `json:"items"`
}

// Limits on input.
const (
	MaxSKULength     = 64
	MaxOrderIDLength = 64
	MaxItems         = 50
	MaxQuantity      = 1_000_000
	MaxSKUsPerQuery  = 100
	MaxKeyLength     = 200
)

// Errors of the inventory contract.
var (
	// ErrOutOfStock means an item asks for more than is available.
	ErrOutOfStock = problem.New("inventory.out_of_stock", http.StatusConflict, "Out of stock")
	// ErrUnknownSKU means an item names an SKU inventory does not stock.
	ErrUnknownSKU = problem.New("inventory.unknown_sku", http.StatusUnprocessableEntity, "Unknown SKU")
	// ErrReservationNotFound means nothing was reserved for the order.
	ErrReservationNotFound = problem.New("inventory.reservation_not_found", http.StatusNotFound, "Reservation not found")
	// ErrReleased means the order's reservation was given back.
	ErrReleased = problem.New("inventory.reservation_released", http.StatusConflict, "Reservation released")
	// ErrIdempotencyConflict means a restock's key was used by a restock
	// of another SKU or quantity.
	ErrIdempotencyConflict = problem.New("inventory.idempotency_conflict", http.StatusConflict, "Idempotency key reused with a different request")
)

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrOutOfStock, ErrUnknownSKU, ErrReservationNotFound, ErrReleased, ErrIdempotencyConflict}
