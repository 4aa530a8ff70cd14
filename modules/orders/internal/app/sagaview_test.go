package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/platform/problem"
)

// stuckRelease is inventory whose Release never answers.
type stuckRelease struct{ inventory.Service }

func (stuckRelease) Release(context.Context, inventory.ReleaseRequest) (inventory.Reservation, error) {
	return inventory.Reservation{}, problem.ErrUnavailable
}

// The console's view lists a saga waiting to give its stock back as
// compensating, and one still going forward as not.
func TestTheSagaOverviewTellsCompensatingFromForward(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := app.New(e.store, &e.customers, e.wallet, stuckRelease{e.stock}, e.cfg, app.Telemetry{})

	// A refused charge voids it, then waits at release_stock.
	back := e.place(t, svc, e.customer(t, 1))
	require.Equal(t, orders.StatusPending, back.Status)
	// A wallet that is down keeps the next order at its charge.
	e.wallet.down.Store(true)
	forward := e.place(t, svc, e.customer(t, 50000))
	require.Equal(t, orders.StatusPending, forward.Status)

	_, running, err := svc.SagaOverview(e.ctx, 10)
	require.NoError(t, err)
	got := map[string][2]any{}
	for _, r := range running {
		got[r.OrderID] = [2]any{r.Step, r.Compensating}
	}
	assert.Equal(t, [2]any{orders.StepReleaseStock, true}, got[back.ID])
	assert.Equal(t, [2]any{orders.StepCharge, false}, got[forward.ID])
}
