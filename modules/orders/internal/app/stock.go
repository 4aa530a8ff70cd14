package app

import (
	"context"
	"errors"
	"time"

	"mitosis/modules/inventory"
	"mitosis/modules/orders"
)

// catalogTimeout bounds the catalog's wait for inventory: a catalog
// without availability is better than none.
const catalogTimeout = 2 * time.Second

// withAvailable sets each product's available stock, or leaves it nil
// when inventory does not answer.
func (s *Service) withAvailable(ctx context.Context, items []orders.Product) {
	skus := make([]string, len(items))
	for i, p := range items {
		skus[i] = p.SKU
	}
	ctx, cancel := context.WithTimeout(ctx, catalogTimeout)
	defer cancel()
	list, err := s.stock.GetStock(ctx, inventory.StockRequest{SKUs: skus})
	if err != nil {
		return
	}
	bySKU := make(map[string]int64, len(list.Items))
	for _, st := range list.Items {
		bySKU[st.SKU] = st.Available
	}
	for i := range items {
		n := bySKU[items[i].SKU] // an SKU inventory does not stock has none
		items[i].Available = &n
	}
}

// reserveStock holds the order's items. Once it may have been attempted,
// every way back goes through release_stock: a refusal now does not prove
// that an earlier attempt still in flight will not land later.
func (s *Service) reserveStock(ctx context.Context, sg saga) (outcome, error) {
	if time.Now().After(sg.DeadlineAt) {
		return failed(sg.Step, "deadline passed", orders.StepReleaseStock, orders.ReasonDeadlineExceeded), nil
	}
	o, err := s.store.Get(ctx, sg.CustomerID, sg.OrderID)
	if err != nil {
		return s.retry(sg, err)
	}
	in := inventory.ReserveRequest{OrderID: sg.OrderID}
	for _, it := range o.Items {
		in.Items = append(in.Items, inventory.Item{SKU: it.SKU, Quantity: int64(it.Quantity)})
	}
	_, err = s.stock.Reserve(ctx, in)
	switch {
	case err == nil:
		return succeeded(sg.Step, "", orders.StepCharge), nil
	case errors.Is(err, inventory.ErrOutOfStock), errors.Is(err, inventory.ErrUnknownSKU):
		return failed(sg.Step, "out of stock", orders.StepReleaseStock, orders.ReasonOutOfStock), nil
	case errors.Is(err, inventory.ErrReleased):
		return failed(sg.Step, "reservation released", orders.StepReleaseStock, orders.ReasonDeadlineExceeded), nil
	}
	return s.retry(sg, err)
}

// confirm commits the order's reserved stock, then settles it confirmed.
// An order placed before inventory existed reserved nothing: it is
// confirmed as it stands.
func (s *Service) confirm(ctx context.Context, sg saga) (outcome, error) {
	_, err := s.stock.Commit(ctx, inventory.CommitRequest{OrderID: sg.OrderID})
	if err != nil && !errors.Is(err, inventory.ErrReservationNotFound) {
		return s.retry(sg, err)
	}
	return outcome{Step: orders.StepConfirm, Outcome: orders.OutcomeSucceeded, Settle: orders.StatusConfirmed, At: now()}, nil
}

// releaseStock is a compensation: it has no deadline and is retried until
// inventory answers. It gives back what the order holds, reserved or sold,
// and forbids a reservation still on its way.
func (s *Service) releaseStock(ctx context.Context, sg saga) (outcome, error) {
	r, err := s.stock.Release(ctx, inventory.ReleaseRequest{OrderID: sg.OrderID})
	if err != nil {
		return s.retry(sg, err)
	}
	detail := "no stock was held; none will be"
	if len(r.Items) > 0 {
		detail = "stock given back"
	}
	return succeeded(sg.Step, detail, orders.StepCancel), nil
}
