package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"mitosis/modules/orders"
)

// catalogTTL is how long a read of the catalog serves: it changes by
// migration or by an operator, rarely, and reading it for every order was
// a statement per order. A price change shows within this time; a new
// SKU at once (a miss reads again).
const catalogTTL = time.Second

// catalog is the last read of the products, by SKU, in SKU order.
type catalog struct {
	mu     sync.Mutex
	readAt time.Time
	list   []orders.Product
	bySKU  map[string]orders.Product
}

// Products returns the catalog, or the named SKUs that exist when skus is
// not empty, in SKU order.
func (s *Store) Products(ctx context.Context, skus ...string) ([]orders.Product, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("select products: %w", err) // a copy or not, a call past its deadline fails
	}
	c := &s.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.readAt) >= catalogTTL || !c.hasAll(skus) {
		if err := c.read(ctx, s); err != nil {
			return nil, err
		}
	}
	if len(skus) == 0 {
		return append([]orders.Product(nil), c.list...), nil
	}
	out := make([]orders.Product, 0, len(skus))
	for _, p := range c.list {
		for _, sku := range skus {
			if p.SKU == sku {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

func (c *catalog) hasAll(skus []string) bool {
	for _, sku := range skus {
		if _, ok := c.bySKU[sku]; !ok {
			return false
		}
	}
	return true
}

func (c *catalog) read(ctx context.Context, s *Store) error {
	var rows []productRow
	if err := s.db.NewSelect().Model(&rows).Order("sku").Scan(ctx); err != nil {
		return fmt.Errorf("select products: %w", err)
	}
	c.list, c.bySKU = make([]orders.Product, 0, len(rows)), make(map[string]orders.Product, len(rows))
	for _, r := range rows {
		p := orders.Product{SKU: r.SKU, Name: r.Name, PriceCents: r.PriceCents}
		c.list, c.bySKU[p.SKU] = append(c.list, p), p
	}
	c.readAt = time.Now()
	return nil
}
