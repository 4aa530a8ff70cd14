// Package app is the orders domain: pricing, placement and cancellation,
// calling users and payments only through their contracts.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/ids"
)

// Customers is the part of users that orders needs.
type Customers interface {
	Get(ctx context.Context, in users.GetRequest) (users.User, error)
}

// Wallets is the part of payments that orders needs.
type Wallets interface {
	Charge(ctx context.Context, in payments.ChargeRequest) (payments.Payment, error)
	Refund(ctx context.Context, in payments.RefundRequest) (payments.Payment, error)
}

// Service is the local implementation of orders.Service.
type Service struct {
	store     *store.Store
	customers Customers
	wallets   Wallets
}

var _ orders.Service = (*Service)(nil)

// New returns the orders service. users.Service and payments.Service may be
// local implementations or HTTP clients; this code cannot tell.
func New(s *store.Store, customers users.Service, wallets payments.Service) *Service {
	return &Service{store: s, customers: customers, wallets: wallets}
}

// ListProducts returns the catalog.
func (s *Service) ListProducts(ctx context.Context, _ orders.ListProductsRequest) (orders.ProductList, error) {
	items, err := s.store.Products(ctx)
	return orders.ProductList{Items: items}, err
}

// PlaceOrder places, charges and settles an order. A repeat with the same
// idempotency key returns the existing order, resuming it if still pending.
func (s *Service) PlaceOrder(ctx context.Context, in orders.PlaceOrderRequest) (orders.Order, error) {
	if err := validatePlacement(in); err != nil {
		return orders.Order{}, err
	}
	hash := requestHash(in.Items)
	if in.IdempotencyKey != "" {
		if o, ok, err := s.replay(ctx, in, hash); ok || err != nil {
			return o, err
		}
	}
	o, err := s.price(ctx, in)
	if err != nil {
		return orders.Order{}, err
	}
	if _, err := s.customers.Get(ctx, users.GetRequest{ID: in.CustomerID}); err != nil {
		if errors.Is(err, users.ErrNotFound) {
			return orders.Order{}, orders.ErrCustomerNotFound
		}
		return orders.Order{}, fmt.Errorf("check customer: %w", err)
	}
	if err := s.store.Insert(ctx, o, in.IdempotencyKey, hash); err != nil {
		if errors.Is(err, store.ErrDuplicateKey) {
			// A concurrent twin with the same key won the insert.
			o, _, err := s.replay(ctx, in, hash)
			return o, err
		}
		return orders.Order{}, err
	}
	return s.settle(ctx, o)
}

// replay answers a repeated idempotency key: ok is false if it is new.
func (s *Service) replay(ctx context.Context, in orders.PlaceOrderRequest, hash string) (orders.Order, bool, error) {
	o, prevHash, err := s.store.ByKey(ctx, in.CustomerID, in.IdempotencyKey)
	if errors.Is(err, orders.ErrNotFound) {
		return orders.Order{}, false, nil
	}
	if err != nil {
		return orders.Order{}, true, err
	}
	if prevHash != hash {
		return orders.Order{}, true, orders.ErrIdempotencyConflict
	}
	if o.Status == orders.StatusPending {
		o, err = s.settle(ctx, o)
	}
	return o, true, err
}

// price builds a pending order from the catalog; unknown SKUs are named.
func (s *Service) price(ctx context.Context, in orders.PlaceOrderRequest) (orders.Order, error) {
	skus := make([]string, len(in.Items))
	for i, it := range in.Items {
		skus[i] = it.SKU
	}
	products, err := s.store.Products(ctx, skus...)
	if err != nil {
		return orders.Order{}, err
	}
	bySKU := make(map[string]orders.Product, len(products))
	for _, p := range products {
		bySKU[p.SKU] = p
	}
	id, err := uuid.NewV7()
	if err != nil {
		return orders.Order{}, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := orders.Order{ID: id.String(), CustomerID: in.CustomerID, Status: orders.StatusPending, CreatedAt: now, UpdatedAt: now}
	if err := unknownSKUs(in.Items, bySKU); err != nil {
		return orders.Order{}, err
	}
	for _, it := range in.Items {
		p := bySKU[it.SKU]
		line := p.PriceCents * int64(it.Quantity)
		o.Items = append(o.Items, orders.OrderItem{SKU: p.SKU, Name: p.Name, Quantity: it.Quantity,
			UnitPriceCents: p.PriceCents, LineTotalCents: line})
		o.TotalCents += line
	}
	if o.TotalCents > payments.MaxAmountCents {
		return orders.Order{}, errTotalTooLarge
	}
	return o, nil
}

// settle charges a pending order and records the outcome. The charge key is
// derived from the order, so settling twice never charges twice.
func (s *Service) settle(ctx context.Context, o orders.Order) (orders.Order, error) {
	p, err := s.wallets.Charge(ctx, payments.ChargeRequest{
		UserID: o.CustomerID, OrderID: o.ID, AmountCents: o.TotalCents, IdempotencyKey: "order:" + o.ID + ":charge",
	})
	switch {
	case errors.Is(err, payments.ErrInsufficientFunds):
		reason := orders.ReasonInsufficientFunds
		if _, err := s.store.Transition(ctx, o.ID, orders.StatusPending, orders.StatusCancelled, nil, &reason); err != nil {
			return orders.Order{}, err
		}
	case err != nil:
		// The order stays pending; a retry with the same key resumes it.
		return orders.Order{}, fmt.Errorf("charge order %s: %w", o.ID, err)
	default:
		moved, err := s.store.Transition(ctx, o.ID, orders.StatusPending, orders.StatusConfirmed, &p.ID, nil)
		if err != nil {
			return orders.Order{}, err
		}
		if !moved {
			return s.reconcile(ctx, o, p)
		}
	}
	return s.store.Get(ctx, o.CustomerID, o.ID)
}

// reconcile handles a charge that succeeded after a concurrent settle of the
// same order had already ended it: unless the order is confirmed with this
// very payment, the money goes back.
func (s *Service) reconcile(ctx context.Context, o orders.Order, p payments.Payment) (orders.Order, error) {
	current, err := s.store.Get(ctx, o.CustomerID, o.ID)
	if err != nil {
		return orders.Order{}, err
	}
	if current.Status == orders.StatusConfirmed && current.PaymentID != nil && *current.PaymentID == p.ID {
		return current, nil
	}
	if _, err := s.wallets.Refund(ctx, payments.RefundRequest{UserID: o.CustomerID, PaymentID: p.ID}); err != nil {
		return orders.Order{}, fmt.Errorf("refund stray charge of order %s: %w", o.ID, err)
	}
	return current, nil
}

// GetOrder returns one of the customer's orders.
func (s *Service) GetOrder(ctx context.Context, in orders.GetOrderRequest) (orders.Order, error) {
	if !ids.Valid(in.OrderID) || !ids.Valid(in.CustomerID) {
		return orders.Order{}, orders.ErrNotFound
	}
	return s.store.Get(ctx, in.CustomerID, in.OrderID)
}

// CancelOrder refunds and cancels a confirmed order. The refund is
// idempotent per payment and the status move is conditional, so concurrent
// or repeated cancels refund once.
func (s *Service) CancelOrder(ctx context.Context, in orders.CancelOrderRequest) (orders.Order, error) {
	o, err := s.GetOrder(ctx, orders.GetOrderRequest(in))
	if err != nil {
		return orders.Order{}, err
	}
	switch o.Status {
	case orders.StatusCancelled:
		return o, nil
	case orders.StatusPending:
		return orders.Order{}, orders.ErrNotCancellable
	}
	if _, err := s.wallets.Refund(ctx, payments.RefundRequest{UserID: o.CustomerID, PaymentID: *o.PaymentID}); err != nil {
		return orders.Order{}, fmt.Errorf("refund order %s: %w", o.ID, err)
	}
	reason := orders.ReasonCancelledByUser
	if _, err := s.store.Transition(ctx, o.ID, orders.StatusConfirmed, orders.StatusCancelled, nil, &reason); err != nil {
		return orders.Order{}, err
	}
	return s.store.Get(ctx, o.CustomerID, o.ID)
}
