// Package app is the inventory domain: what each method decides, and what it
// asks the store to persist.
package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/internal/store"
)

// Service is the local implementation of inventory.Service.
type Service struct {
	store *store.Store
}

var _ inventory.Service = (*Service)(nil)

// New returns the inventory service.
func New(s *store.Store) *Service {
	return &Service{store: s}
}

// GetStock returns the named SKUs' stock, or every SKU's.
func (s *Service) GetStock(ctx context.Context, in inventory.StockRequest) (inventory.StockList, error) {
	if err := validStockRequest(in); err != nil {
		return inventory.StockList{}, err
	}
	items, err := store.ListStock(ctx, s.store.DB(), in.SKUs)
	if err != nil {
		return inventory.StockList{}, err
	}
	return inventory.StockList{Items: items}, nil
}

// Restock adds to the SKU's stock, all of it available; once per key.
func (s *Service) Restock(ctx context.Context, in inventory.RestockRequest) (inventory.Stock, error) {
	if err := validRestock(in); err != nil {
		return inventory.Stock{}, err
	}
	if in.IdempotencyKey == "" {
		return store.AddStock(ctx, s.store.DB(), in.SKU, in.Quantity)
	}
	var out inventory.Stock
	err := s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The key first: a repeat arriving at once waits on it, then finds
		// the first one's.
		first, inserted, err := store.InsertRestock(ctx, tx, in.IdempotencyKey, in.SKU, in.Quantity)
		if err != nil {
			return err
		}
		if inserted {
			out, err = store.AddStock(ctx, tx, in.SKU, in.Quantity)
			return err
		}
		if first.SKU != in.SKU || first.Quantity != in.Quantity {
			return inventory.ErrIdempotencyConflict
		}
		list, err := store.ListStock(ctx, tx, []string{in.SKU})
		if err != nil {
			return err
		}
		out = list[0] // the first one created the SKU, and SKUs stay
		return nil
	})
	if err != nil {
		return inventory.Stock{}, err
	}
	return out, nil
}

// Reserve holds every item's stock for the order, or none of it.
func (s *Service) Reserve(ctx context.Context, in inventory.ReserveRequest) (inventory.Reservation, error) {
	items, err := validReserve(in)
	if err != nil {
		return inventory.Reservation{}, err
	}
	out := inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusReserved, Items: items}
	err = s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The reservation first: a repeat arriving at once waits on its
		// key, then returns what the first one decided.
		inserted, err := store.InsertReservation(ctx, tx, in.OrderID, inventory.StatusReserved)
		if err != nil {
			return err
		}
		if !inserted {
			existing, _, err := store.LockReservation(ctx, tx, in.OrderID)
			if err != nil {
				return err
			}
			if existing.Status == inventory.StatusReleased {
				return inventory.ErrReleased
			}
			out = existing
			return nil
		}
		taken, err := store.TakeAll(ctx, tx, items)
		if err != nil {
			return err
		}
		if len(taken) < len(items) {
			return short(ctx, tx, items, taken)
		}
		return store.InsertLines(ctx, tx, in.OrderID, items)
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}

// short names the first item by SKU that was not taken: ErrUnknownSKU
// when inventory does not stock it, ErrOutOfStock when less is available.
// The transaction then rolls back whatever the others held.
func short(ctx context.Context, tx bun.Tx, items []inventory.Item, taken map[string]bool) error {
	i := slices.IndexFunc(items, func(it inventory.Item) bool { return !taken[it.SKU] })
	sku := items[i].SKU
	stocked, err := store.Stocked(ctx, tx, sku)
	if err != nil {
		return err
	}
	if !stocked {
		return fmt.Errorf("%w: %s", inventory.ErrUnknownSKU, sku)
	}
	return fmt.Errorf("%w: %s", inventory.ErrOutOfStock, sku)
}

// Release gives back what the order holds, reserved or sold; an order with
// nothing reserved is marked released, so its late Reserve holds nothing.
func (s *Service) Release(ctx context.Context, in inventory.ReleaseRequest) (inventory.Reservation, error) {
	if err := validOrderID(in.OrderID); err != nil {
		return inventory.Reservation{}, err
	}
	var out inventory.Reservation
	err := s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		inserted, err := store.InsertReservation(ctx, tx, in.OrderID, inventory.StatusReleased)
		if err != nil {
			return err
		}
		if inserted {
			out = inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusReleased, Items: []inventory.Item{}}
			return nil
		}
		// What it held goes back from the count it is in, the lines
		// returned as they moved.
		prev, marked, err := store.MarkReservation(ctx, tx, in.OrderID, inventory.StatusReleased,
			inventory.StatusReserved, inventory.StatusCommitted)
		if err != nil {
			return err
		}
		if !marked { // released before: answered as it stands
			out, _, err = store.LockReservation(ctx, tx, in.OrderID)
			return err
		}
		from := store.Reserved
		if prev == inventory.StatusCommitted {
			from = store.Sold
		}
		items, err := store.MoveLines(ctx, tx, in.OrderID, from, store.Available)
		out = inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusReleased, Items: items}
		return err
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}

// Commit turns the order's held stock into sold stock, once.
func (s *Service) Commit(ctx context.Context, in inventory.CommitRequest) (inventory.Reservation, error) {
	if err := validOrderID(in.OrderID); err != nil {
		return inventory.Reservation{}, err
	}
	// A held reservation is committed in one statement; anything else is
	// read under lock and answered as it stands.
	items, committed, err := store.CommitHeld(ctx, s.store.DB(), in.OrderID)
	if err != nil {
		return inventory.Reservation{}, err
	}
	if committed {
		return inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusCommitted, Items: items}, nil
	}
	var out inventory.Reservation
	err = s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for {
			_, marked, err := store.MarkReservation(ctx, tx, in.OrderID, inventory.StatusCommitted, inventory.StatusReserved)
			if err != nil {
				return err
			}
			if marked {
				items, err := store.MoveLines(ctx, tx, in.OrderID, store.Reserved, store.Sold)
				out = inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusCommitted, Items: items}
				return err
			}
			r, found, err := store.LockReservation(ctx, tx, in.OrderID)
			switch {
			case err != nil:
				return err
			case !found:
				return inventory.ErrReservationNotFound
			case r.Status == inventory.StatusReleased:
				return inventory.ErrReleased
			case r.Status == inventory.StatusCommitted:
				out = r
				return nil
			}
			// Reserved since the mark's snapshot was taken, and locked now:
			// the next mark takes it.
		}
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}
