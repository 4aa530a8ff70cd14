// Package orders is the contract of the orders module: the product catalog
// and customers' orders, their stock held through the inventory contract
// and paid through the payments contract.
package orders

import (
	"context"
	"net/http"
	"time"

	"mitosis/platform/problem"
)

// Service is what other modules and the HTTP API may ask of orders.
type Service interface {
	// ListProducts returns the catalog.
	ListProducts(ctx context.Context, in ListProductsRequest) (ProductList, error)
	// PlaceOrder prices the items, stores the order and runs its saga
	// (check the customer, reserve the stock, charge the wallet, confirm;
	// or compensate and cancel). The order is confirmed or cancelled, or still pending when a
	// dependency did not answer in time: it then settles by itself. The
	// same IdempotencyKey returns the same order and never charges twice.
	PlaceOrder(ctx context.Context, in PlaceOrderRequest) (Order, error)
	// GetOrder returns one of the customer's orders; ErrNotFound otherwise.
	GetOrder(ctx context.Context, in GetOrderRequest) (Order, error)
	// ListOrders returns the customer's orders, newest first, a page at a time.
	ListOrders(ctx context.Context, in ListOrdersRequest) (OrderPage, error)
	// CancelOrder cancels a confirmed order and refunds it, exactly once.
	// The intent is durable: if the refund fails, it is retried until done.
	// The order comes back cancelled, or still confirmed when payments did
	// not answer in time: the saga then refunds and cancels it by itself.
	CancelOrder(ctx context.Context, in CancelOrderRequest) (Order, error)
	// GetOrderHistory returns the steps an order's saga took; ErrNotFound
	// for another customer's order.
	GetOrderHistory(ctx context.Context, in GetOrderRequest) (OrderHistory, error)
}

// ListProductsRequest is the input of ListProducts.
type ListProductsRequest struct{}

// Product is a catalog entry. Available is how many inventory has to sell,
// nil when inventory did not answer (the catalog is still served).
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  *int64 `json:"available,omitempty"`
}

// ProductList is the output of ListProducts.
type ProductList struct {
	Items []Product `json:"items"`
}

// PlaceOrderRequest is the input of PlaceOrder.
type PlaceOrderRequest struct {
	CustomerID     string `json:"customer_id"`
	Items          []Item `json:"items"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Item is a requested product and quantity.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// GetOrderRequest is the input of GetOrder.
type GetOrderRequest struct {
	CustomerID string `json:"customer_id"`
	OrderID    string `json:"order_id"`
}

// ListOrdersRequest is the input of ListOrders. Cursor comes from the
// previous page; Limit defaults to 20 and is at most 100.
type ListOrdersRequest struct {
	CustomerID string `json:"customer_id"`
	// AllCustomers lists every customer's orders (the admin view; the HTTP
	// API checks the role), and CustomerID is then ignored.
	AllCustomers bool   `json:"all_customers,omitempty"`
	Limit        int    `json:"limit,omitempty"`
	Cursor       string `json:"cursor,omitempty"`
}

// CancelOrderRequest is the input of CancelOrder.
type CancelOrderRequest struct {
	CustomerID string `json:"customer_id"`
	OrderID    string `json:"order_id"`
}

// Order statuses.
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
)

// Failure reasons of cancelled orders.
const (
	ReasonInsufficientFunds = "insufficient_funds"
	ReasonCancelledByUser   = "cancelled_by_customer"
	ReasonCustomerNotFound  = "customer_not_found"
	// ReasonOutOfStock means an item asked for more than inventory had
	// available; nothing is charged.
	ReasonOutOfStock = "out_of_stock"
	// ReasonDeadlineExceeded means the order could not be paid before its
	// saga's deadline (a dependency stayed unavailable); nothing is charged.
	ReasonDeadlineExceeded = "deadline_exceeded"
)

// Steps of an order's saga. Forward: check_customer, reserve_stock,
// charge, confirm (which commits the reserved stock). Compensations:
// void_charge (refunds the charge, or forbids it if it never happened),
// refund (a customer's cancellation), release_stock (gives the stock back,
// or forbids its reservation if it never happened), cancel.
const (
	StepCheckCustomer = "check_customer"
	StepReserveStock  = "reserve_stock"
	StepCharge        = "charge"
	StepConfirm       = "confirm"
	StepVoidCharge    = "void_charge"
	StepRefund        = "refund"
	StepReleaseStock  = "release_stock"
	StepCancel        = "cancel"
)

// Outcomes of a saga step.
const (
	// OutcomeSucceeded means the step is done.
	OutcomeSucceeded = "succeeded"
	// OutcomeFailed means the step cannot succeed: the saga compensates.
	OutcomeFailed = "failed"
	// OutcomeRetrying means a dependency did not answer: the step runs again later.
	OutcomeRetrying = "retrying"
)

// OrderHistory is the output of GetOrderHistory. NextStep is the step to
// run next, nil once the order is settled.
type OrderHistory struct {
	OrderID  string        `json:"order_id"`
	Status   string        `json:"status"`
	NextStep *string       `json:"next_step"`
	Steps    []HistoryStep `json:"steps"`
}

// HistoryStep is one recorded outcome of a saga step.
type HistoryStep struct {
	Seq     int       `json:"seq"`
	Step    string    `json:"step"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail"`
	At      time.Time `json:"at"`
}

// Order is a customer's order.
type Order struct {
	ID            string      `json:"id"`
	CustomerID    string      `json:"customer_id"`
	Status        string      `json:"status"`
	TotalCents    int64       `json:"total_cents"`
	Items         []OrderItem `json:"items"`
	PaymentID     *string     `json:"payment_id"`
	FailureReason *string     `json:"failure_reason"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

// OrderItem is one priced line of an order.
type OrderItem struct {
	SKU            string `json:"sku"`
	Name           string `json:"name"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	LineTotalCents int64  `json:"line_total_cents"`
}

// OrderPage is the output of ListOrders; NextCursor is empty on the last page.
type OrderPage struct {
	Items      []Order `json:"items"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Limits on an order.
const (
	MaxItems    = 50
	MaxQuantity = 1000
)

// Errors of the orders contract.
var (
	// ErrNotFound means there is no such order for this customer.
	ErrNotFound = problem.New("orders.not_found", http.StatusNotFound, "Order not found")
	// ErrIdempotencyConflict means the key was used with a different body.
	ErrIdempotencyConflict = problem.New("orders.idempotency_conflict", http.StatusConflict, "Idempotency key reused with a different request")
	// ErrCustomerNotFound means the customer does not exist.
	ErrCustomerNotFound = problem.New("orders.customer_not_found", http.StatusUnprocessableEntity, "Customer not found")
	// ErrNotCancellable means the order is still being settled.
	ErrNotCancellable = problem.New("orders.not_cancellable", http.StatusConflict, "Order cannot be cancelled in its current state")
)

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrNotFound, ErrIdempotencyConflict, ErrCustomerNotFound, ErrNotCancellable}

// Event types orders publishes; the aggregate of each is the order.
const (
	// EventOrderPlaced is published when an order is stored, pending payment.
	EventOrderPlaced = "order.placed"
	// EventOrderConfirmed is published when an order's payment is captured.
	EventOrderConfirmed = "order.confirmed"
	// EventOrderCancelled is published when an order is cancelled, whether
	// it was pending (payment failed) or confirmed (refunded).
	EventOrderCancelled = "order.cancelled"
)

// OrderPlaced is the payload of order.placed.
type OrderPlaced struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	TotalCents int64  `json:"total_cents"`
}

// OrderConfirmed is the payload of order.confirmed.
type OrderConfirmed struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	TotalCents int64  `json:"total_cents"`
	PaymentID  string `json:"payment_id"`
}

// OrderCancelled is the payload of order.cancelled. PreviousStatus says
// whether the order had been confirmed (its total refunded) or was pending.
type OrderCancelled struct {
	OrderID        string `json:"order_id"`
	CustomerID     string `json:"customer_id"`
	TotalCents     int64  `json:"total_cents"`
	PreviousStatus string `json:"previous_status"`
	Reason         string `json:"reason"`
}
