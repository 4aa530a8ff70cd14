// Package app is the orders domain: pricing, and the saga that places and
// cancels orders with its recovery worker (worker.go), calling users,
// inventory and payments only through their contracts. The saga lives
// here whole: its states and outcomes (state.go), its steps and what each
// decides (saga.go, stock.go, cancel.go), and what is written, in which
// transaction, under which condition (record.go); the store persists
// what it is told.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"mitosis/modules/inventory"
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
	VoidCharge(ctx context.Context, in payments.VoidChargeRequest) (payments.Void, error)
}

// Stock is the part of inventory that orders needs.
type Stock interface {
	GetStock(ctx context.Context, in inventory.StockRequest) (inventory.StockList, error)
	Reserve(ctx context.Context, in inventory.ReserveRequest) (inventory.Reservation, error)
	Release(ctx context.Context, in inventory.ReleaseRequest) (inventory.Reservation, error)
	Commit(ctx context.Context, in inventory.CommitRequest) (inventory.Reservation, error)
}

// Service is the local implementation of orders.Service.
type Service struct {
	store     *store.Store
	customers Customers
	wallets   Wallets
	stock     Stock
	cfg       Settings
	observe   observer
	tracer    trace.Tracer // nil: the saga is not traced
}

var _ orders.Service = (*Service)(nil)

// New returns the orders service. customers, wallets and stock may be
// local implementations or HTTP clients; this code cannot tell. The saga
// reports its steps to tel.
func New(s *store.Store, customers Customers, wallets Wallets, stock Stock, cfg Settings, tel Telemetry) *Service {
	return &Service{store: s, customers: customers, wallets: wallets, stock: stock, cfg: cfg, observe: newObserver(tel)}
}

// ListProducts returns the catalog, with what inventory has available.
func (s *Service) ListProducts(ctx context.Context, _ orders.ListProductsRequest) (orders.ProductList, error) {
	items, err := s.store.Products(ctx)
	if err != nil {
		return orders.ProductList{}, err
	}
	s.withAvailable(ctx, items)
	return orders.ProductList{Items: items}, nil
}

// PlaceOrder stores the order with its saga and runs the saga here for at
// most SAGA_INLINE_TIMEOUT; an order still pending then is finished by the
// recovery worker. A repeat with the same idempotency key returns the
// existing order, resuming its saga if no one else is running it.
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
	inline, cancel := context.WithTimeout(ctx, s.cfg.InlineTimeout)
	defer cancel()
	first, err := s.firstStep(inline, in.CustomerID)
	if err != nil {
		return orders.Order{}, err
	}
	if err := s.insert(ctx, o, in.IdempotencyKey, hash, first); err != nil {
		if errors.Is(err, store.ErrDuplicateKey) {
			// A concurrent twin with the same key won the insert.
			o, _, err := s.replay(ctx, in, hash)
			return o, err
		}
		return orders.Order{}, err
	}
	if first.Owner != "" {
		held := saga{OrderID: o.ID, CustomerID: o.CustomerID, TotalCents: o.TotalCents, Step: first.Step,
			DeadlineAt: time.Now().Add(s.cfg.Deadline), Owner: first.Owner}
		done, err := s.run(inline, held, nil)
		switch {
		case err == nil && done.Settled != "":
			// Settled here, under this request's lease: the order is what
			// was just recorded, with no need to read it back.
			o.Status, o.UpdatedAt, o.PaymentID, o.FailureReason = done.Settled, done.SettledAt, done.PaymentID, done.FailureReason
			return o, nil
		case err != nil && !settledLater(err):
			return orders.Order{}, err
		}
	}
	return s.store.Get(ctx, o.CustomerID, o.ID)
}

// firstStep checks the customer before anything is stored, so an unknown
// customer leaves no order behind, and the placing request holds the saga
// at its next step. If users does not answer, the saga starts at that
// check, left to the worker.
func (s *Service) firstStep(ctx context.Context, customerID string) (start, error) {
	first := start{TraceParent: traceParentOf(ctx)}
	_, err := s.customers.Get(ctx, users.GetRequest{ID: customerID})
	switch {
	case errors.Is(err, users.ErrNotFound):
		return first, orders.ErrCustomerNotFound
	case err != nil:
		out, _ := s.retry(saga{Step: orders.StepCheckCustomer}, err)
		first.Step, first.Attempts, first.RetryIn, first.Done = orders.StepCheckCustomer, 1, out.RetryIn, []outcome{out}
	default:
		first.Step, first.Owner = orders.StepReserveStock, newOwner()
		first.Done = []outcome{succeeded(orders.StepCheckCustomer, "", orders.StepReserveStock)}
	}
	return first, nil
}

// settledLater reports an error of run after which the order is still
// pending but in good hands: the worker (or another runner) goes on.
func settledLater(err error) bool {
	var r *rescheduled
	return errors.As(err, &r) || errors.Is(err, store.ErrLeaseLost) || errors.Is(err, errHalted)
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
	if o.Status != orders.StatusPending {
		return o, true, nil
	}
	inline, cancel := context.WithTimeout(ctx, s.cfg.InlineTimeout)
	defer cancel()
	if err := s.settle(inline, o.ID); err != nil && !settledLater(err) {
		return orders.Order{}, true, err
	}
	o, err = s.store.Get(ctx, in.CustomerID, o.ID)
	return o, true, err
}

// settle runs the order's unfinished saga here if no one else is running
// it, or waits while someone else does, until it is settled or ctx ends
// (no error: the saga goes on without this caller).
func (s *Service) settle(ctx context.Context, orderID string) error {
	for {
		sg, ok, err := s.store.ClaimOne(ctx, orderID, newOwner(), s.cfg.Lease)
		if err != nil {
			return ended(ctx, err)
		}
		if ok {
			_, err := s.run(ctx, sagaOf(sg), nil)
			return err
		}
		step, err := s.store.SagaStep(ctx, orderID)
		if err != nil || step == stepDone {
			return ended(ctx, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ended is err, or nil once ctx has ended: a read cut short by the
// caller's deadline is no failure of the saga.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
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

// GetOrder returns one of the customer's orders.
func (s *Service) GetOrder(ctx context.Context, in orders.GetOrderRequest) (orders.Order, error) {
	if !ids.Valid(in.OrderID) || !ids.Valid(in.CustomerID) {
		return orders.Order{}, orders.ErrNotFound
	}
	return s.store.Get(ctx, in.CustomerID, in.OrderID)
}
