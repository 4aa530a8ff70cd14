package app

import (
	"context"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/events"
)

// Handlers are the users module's subscriptions: the order statistics read
// model. Each runs in the inbox transaction, so it applies once per event;
// what an event means is decided here, the store only adds it up.
func Handlers() map[string]events.Handler {
	return map[string]events.Handler{
		orders.EventOrderConfirmed: func(ctx context.Context, tx bun.Tx, e events.Event) error {
			var p orders.OrderConfirmed
			if err := e.Decode(&p); err != nil {
				return err
			}
			return store.AddOrderStats(ctx, tx, p.CustomerID, 1, p.TotalCents)
		},
		orders.EventOrderCancelled: func(ctx context.Context, tx bun.Tx, e events.Event) error {
			var p orders.OrderCancelled
			if err := e.Decode(&p); err != nil {
				return err
			}
			if p.PreviousStatus != orders.StatusConfirmed {
				return nil // never counted
			}
			return store.AddOrderStats(ctx, tx, p.CustomerID, -1, -p.TotalCents)
		},
	}
}
