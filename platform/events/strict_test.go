package events_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// With a loopback (LOCAL_CALLS=strict) an event for a subscriber of this
// very process is delivered as to a remote one: POSTed through the
// process's own handler, under its service credentials, its envelope
// encoded, decoded and checked. What a direct delivery lets through fails
// as it would once the subscriber runs elsewhere.
func TestStrictLocalDeliveryCrossesTheEnvelopeCodec(t *testing.T) {
	secret := []byte("strict-secret-strict-secret-strict-secret-0")
	var caller atomic.Value
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		caller.Store(auth.Caller(ctx))
		return record(ctx, tx, e)
	})
	e := httpserver.New(config.Config{}, quiet)
	e.Use(auth.NewJWTServiceAuth(secret, "sub").GuardInternal)
	events.Mount(e, w.bus)
	cfg := config.Config{Calls: config.Calls{Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond, MaxConcurrency: 8, BreakerFailures: 5, BreakerCooldown: time.Second}}
	f := transport.NewFactory(cfg, auth.NewJWTServiceAuth(secret, "pub"), quiet)
	place := topology.Manual([]string{"pub", "sub"}, nil)
	direct := events.NewDeliverer(w.bus, place, f, nil)
	strict := events.NewDeliverer(w.bus, place, f, f.Loopback(e))

	// The relay delivers through the loopback, and the handler sees the
	// publisher's process as its caller, from its credentials.
	r := w.relay(strict)
	w.publish(t, "a", 1)
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return len(w.effects(t, "a")) == 1
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "pub", caller.Load())

	ctx := context.Background()
	good, err := events.New("pub", "thing.made", "b", map[string]int{"n": 2})
	require.NoError(t, err)

	// An envelope the receiving side refuses: its aggregate holds a NUL.
	nul := good
	nul.ID, nul.AggregateID = "5e0c1f3a-2b4d-4c6e-8f10-3a5b7c9d1e2f", "b\x00"
	// A payload that is not JSON at all.
	broken := good
	broken.ID, broken.AggregateID, broken.Payload = "7d7a3b1e-3f0e-4b7a-9c57-1a3c1f7b9d10", "c", json.RawMessage(`{"n":`)

	// In one batch with a good one, each bad one fails alone, before the
	// wire, and the good one is applied.
	errs := strict(ctx, "sub", []events.Event{nul, broken, good})
	require.ErrorIs(t, errs[0], problem.ErrValidation, "strict: refused as a remote subscriber refuses it")
	require.Error(t, errs[1])
	assert.Contains(t, errs[1].Error(), "encode thing.made "+broken.ID)
	require.NoError(t, errs[2])

	err = direct(ctx, "sub", []events.Event{broken})[0]
	require.ErrorContains(t, err, "sub handling thing.made", "direct: handed to the handler as it is, which meets it")
	err = direct(ctx, "sub", []events.Event{nul})[0]
	require.Error(t, err, "direct: only the database refuses it")
	assert.Equal(t, problem.ErrInternal, problem.CodeOf(err), "direct: an uncoded database error, not the wire's 400")
	assert.Equal(t, []int{2}, w.effects(t, "b"))
}
