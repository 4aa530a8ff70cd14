package app_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/platform/events"
)

// The set-based handlers have the effect of the handlers applied one
// event at a time: the same order statistics for every customer.
func TestBatchHandlersAddUpAsTheHandlersDo(t *testing.T) {
	ada, bob, cy := uuid.NewString(), uuid.NewString(), uuid.NewString()
	event := func(typ string, payload any) events.Event {
		e, err := events.New("orders", typ, uuid.NewString(), payload)
		require.NoError(t, err)
		return e
	}
	confirmed := func(customer string, cents int64) events.Event {
		return event(orders.EventOrderConfirmed, orders.OrderConfirmed{OrderID: uuid.NewString(), CustomerID: customer, TotalCents: cents})
	}
	cancelled := func(customer string, cents int64, previous string) events.Event {
		return event(orders.EventOrderCancelled, orders.OrderCancelled{OrderID: uuid.NewString(), CustomerID: customer, TotalCents: cents,
			PreviousStatus: previous})
	}
	batch := []events.Event{
		confirmed(ada, 1000), confirmed(bob, 250), confirmed(ada, 500), confirmed(cy, 99),
		cancelled(ada, 500, orders.StatusConfirmed), cancelled(bob, 7000, orders.StatusPending), confirmed(bob, 1),
	}
	ctx := context.Background()

	oneByOne, oneDB := newStore(t)
	one := app.Handlers()
	require.NoError(t, oneDB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, e := range batch {
			if err := one[e.Type](ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}))

	together, batchDB := newStore(t)
	set := app.BatchHandlers()
	require.NoError(t, batchDB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Runs of one type, in order, as the bus hands them.
		for _, run := range [][]events.Event{batch[:4], batch[4:6], batch[6:]} {
			if err := set[run[0].Type](ctx, tx, run); err != nil {
				return err
			}
		}
		return nil
	}))

	want := map[string]users.OrderStats{
		ada: {OrdersConfirmed: 1, TotalSpentCents: 1000},
		bob: {OrdersConfirmed: 2, TotalSpentCents: 251},
		cy:  {OrdersConfirmed: 1, TotalSpentCents: 99},
	}
	for customer, stats := range want {
		got, err := oneByOne.Stats(ctx, customer)
		require.NoError(t, err)
		assert.Equal(t, stats, got, "one by one")
		got, err = together.Stats(ctx, customer)
		require.NoError(t, err)
		assert.Equal(t, stats, got, "in a batch")
	}

	// An event whose payload is not the type's fails the batch.
	bad := confirmed(ada, 1)
	bad.Payload = []byte(`{"customer_id":1}`)
	err := batchDB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return set[orders.EventOrderConfirmed](ctx, tx, []events.Event{confirmed(ada, 5), bad})
	})
	require.Error(t, err)
	got, err := together.Stats(ctx, ada)
	require.NoError(t, err)
	assert.Equal(t, want[ada], got, "nothing of the failed batch")
}
