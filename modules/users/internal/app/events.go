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
// what an event means is decided here (statsChange), the store only adds
// it up.
func Handlers() map[string]events.Handler {
	return map[string]events.Handler{
		orders.EventOrderConfirmed: applyOne(confirmed),
		orders.EventOrderCancelled: applyOne(cancelled),
	}
}

// BatchHandlers are the set-based forms of Handlers: a batch of events,
// each decided as Handlers decides it, is added up per customer in one
// statement.
func BatchHandlers() map[string]events.BatchHandler {
	return map[string]events.BatchHandler{
		orders.EventOrderConfirmed: applyBatch(confirmed),
		orders.EventOrderCancelled: applyBatch(cancelled),
	}
}

// statsChange decides what one event does to a customer's order
// statistics; counted false: nothing.
type statsChange func(e events.Event) (c store.StatsChange, counted bool, err error)

func confirmed(e events.Event) (store.StatsChange, bool, error) {
	var p orders.OrderConfirmed
	if err := e.Decode(&p); err != nil {
		return store.StatsChange{}, false, err
	}
	return store.StatsChange{UserID: p.CustomerID, Orders: 1, Cents: p.TotalCents}, true, nil
}

func cancelled(e events.Event) (store.StatsChange, bool, error) {
	var p orders.OrderCancelled
	if err := e.Decode(&p); err != nil {
		return store.StatsChange{}, false, err
	}
	if p.PreviousStatus != orders.StatusConfirmed {
		return store.StatsChange{}, false, nil // never counted
	}
	return store.StatsChange{UserID: p.CustomerID, Orders: -1, Cents: -p.TotalCents}, true, nil
}

func applyOne(change statsChange) events.Handler {
	return func(ctx context.Context, tx bun.Tx, e events.Event) error {
		c, counted, err := change(e)
		if err != nil || !counted {
			return err
		}
		return store.AddOrderStats(ctx, tx, c.UserID, c.Orders, c.Cents)
	}
}

func applyBatch(change statsChange) events.BatchHandler {
	return func(ctx context.Context, tx bun.Tx, es []events.Event) error {
		cs := make([]store.StatsChange, 0, len(es))
		for _, e := range es {
			c, counted, err := change(e)
			if err != nil {
				return err
			}
			if counted {
				cs = append(cs, c)
			}
		}
		return store.AddOrderStatsBatch(ctx, tx, cs)
	}
}
