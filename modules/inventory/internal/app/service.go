// Package app is the inventory domain: what each method decides, and what it
// asks the store to persist.
package app

import (
	"context"
	"fmt"

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
	err := s.store.InTx(ctx, func(tx bun.Tx) error {
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
	err = s.store.InTx(ctx, func(tx bun.Tx) error {
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
		// Items come sorted by SKU, so two reservations lock rows in the
		// same order and never deadlock.
		for _, it := range items {
			if err := take(ctx, tx, it); err != nil {
				return err
			}
		}
		return store.InsertLines(ctx, tx, in.OrderID, items)
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}

// take holds one item's stock; a short SKU is ErrOutOfStock, and the
// transaction rolls back whatever the others held.
func take(ctx context.Context, tx bun.Tx, it inventory.Item) error {
	ok, err := store.Take(ctx, tx, it.SKU, it.Quantity)
	if err != nil || ok {
		return err
	}
	stocked, err := store.Stocked(ctx, tx, it.SKU)
	if err != nil {
		return err
	}
	if !stocked {
		return fmt.Errorf("%w: %s", inventory.ErrUnknownSKU, it.SKU)
	}
	return fmt.Errorf("%w: %s", inventory.ErrOutOfStock, it.SKU)
}

// Release gives back what the order holds, reserved or sold; an order with
// nothing reserved is marked released, so its late Reserve holds nothing.
func (s *Service) Release(ctx context.Context, in inventory.ReleaseRequest) (inventory.Reservation, error) {
	if err := validOrderID(in.OrderID); err != nil {
		return inventory.Reservation{}, err
	}
	var out inventory.Reservation
	err := s.store.InTx(ctx, func(tx bun.Tx) error {
		inserted, err := store.InsertReservation(ctx, tx, in.OrderID, inventory.StatusReleased)
		if err != nil {
			return err
		}
		if inserted {
			out = inventory.Reservation{OrderID: in.OrderID, Status: inventory.StatusReleased, Items: []inventory.Item{}}
			return nil
		}
		r, _, err := store.LockReservation(ctx, tx, in.OrderID)
		if err != nil {
			return err
		}
		out = r
		switch r.Status {
		case inventory.StatusReleased:
			return nil
		case inventory.StatusReserved:
			err = store.Move(ctx, tx, r.Items, store.Reserved, store.Available)
		case inventory.StatusCommitted:
			err = store.Move(ctx, tx, r.Items, store.Sold, store.Available)
		}
		if err != nil {
			return err
		}
		out.Status = inventory.StatusReleased
		return store.SetStatus(ctx, tx, in.OrderID, inventory.StatusReleased)
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
	var out inventory.Reservation
	err := s.store.InTx(ctx, func(tx bun.Tx) error {
		r, found, err := store.LockReservation(ctx, tx, in.OrderID)
		switch {
		case err != nil:
			return err
		case !found:
			return inventory.ErrReservationNotFound
		case r.Status == inventory.StatusReleased:
			return inventory.ErrReleased
		}
		out = r
		if r.Status == inventory.StatusCommitted {
			return nil
		}
		if err := store.Move(ctx, tx, r.Items, store.Reserved, store.Sold); err != nil {
			return err
		}
		out.Status = inventory.StatusCommitted
		return store.SetStatus(ctx, tx, in.OrderID, inventory.StatusCommitted)
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}
