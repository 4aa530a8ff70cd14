package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/platform/telemetry/telemetrytest"
)

// Each step is a span under the request that runs it; a saga the worker
// finishes later is a trace of its own, linked to the placing request,
// its steps under it, a retried step marked as an error.
func TestSagaStepsAreSpansAndARecoveredSagaLinksToItsPlacement(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "orders")
	e := newEnv(t, sagaConfig())
	svc := e.service().Traced(tr.Tracer("orders"))
	alice := e.customer(t, 5000)
	e.wallet.down.Store(true)

	ctx, request := tr.Tracer("orders").Start(context.Background(), "POST /api/v1/orders")
	o, err := svc.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: alice, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
	require.NoError(t, err)
	request.End()
	require.Equal(t, orders.StatusPending, o.Status)

	e.wallet.down.Store(false)
	require.Equal(t, orders.StatusConfirmed, e.settled(t, app.NewWorker(svc, quiet()), o).Status)
	require.NoError(t, tr.ForceFlush(t.Context()))

	spans := rcv.WaitFor(t, 5*time.Second, "the recovery", func(s []telemetrytest.Span) bool { return len(rcv.Named("saga confirm")) == 1 })
	reqTrace, reqSpan := request.SpanContext().TraceID().String(), request.SpanContext().SpanID().String()
	inline := rcv.Named("saga charge")
	require.Len(t, inline, 2, "the inline attempt and the worker's: %s", telemetrytest.Names(spans))
	assert.Equal(t, reqSpan, inline[0].ParentID)
	assert.True(t, inline[0].Error, "payments was down: retrying")
	assert.Equal(t, "retrying", inline[0].Attributes["mitosis.saga.outcome"])
	assert.Equal(t, o.ID, inline[0].Attributes["mitosis.order_id"])

	recovered := rcv.Named("saga recover")
	require.Len(t, recovered, 1)
	assert.Empty(t, recovered[0].ParentID)
	assert.NotEqual(t, reqTrace, recovered[0].TraceID)
	assert.Equal(t, []telemetrytest.Link{{TraceID: reqTrace, SpanID: reqSpan}}, recovered[0].Links)
	assert.Equal(t, recovered[0].SpanID, inline[1].ParentID)
	assert.False(t, inline[1].Error)
	assert.Equal(t, "succeeded", inline[1].Attributes["mitosis.saga.outcome"])
	assert.Equal(t, recovered[0].SpanID, rcv.Named("saga confirm")[0].ParentID)
}
