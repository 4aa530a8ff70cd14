package events_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/topology"
)

// A module whose handlers differ from its Spec's subscriptions fails at
// start, naming both, rather than dead-lettering every event later.
func TestHandlersMustMatchTheSpec(t *testing.T) {
	specs := []topology.Spec{{Name: "sub", Subscribes: []string{"thing.made", "thing.gone"}}}
	place, err := topology.Plan(specs, config.Config{})
	require.NoError(t, err)
	noop := func(context.Context, bun.Tx, events.Event) error { return nil }
	start := func(handlers map[string]events.Handler) error {
		return fx.New(fx.NopLogger,
			fx.Supply(place, (*bun.DB)(nil)),
			fx.Provide(events.NewBus),
			events.Subscriber("sub", handlers),
		).Err()
	}
	err = start(map[string]events.Handler{"thing.made": noop})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sub handles events [thing.made] but its Spec subscribes to [thing.gone thing.made]")
	require.NoError(t, start(map[string]events.Handler{"thing.made": noop, "thing.gone": noop}))
}

// A set-based handler of a type without a handler fails at start: an
// event its batch cannot apply is applied alone, by the Handler.
func TestABatchHandlerNeedsAHandlerOfItsType(t *testing.T) {
	specs := []topology.Spec{{Name: "sub", Subscribes: []string{"thing.made"}}}
	place, err := topology.Plan(specs, config.Config{})
	require.NoError(t, err)
	noop := func(context.Context, bun.Tx, events.Event) error { return nil }
	noops := func(context.Context, bun.Tx, []events.Event) error { return nil }
	start := func(batch map[string]events.BatchHandler) error {
		return fx.New(fx.NopLogger,
			fx.Supply(place, (*bun.DB)(nil)),
			fx.Provide(events.NewBus),
			events.Subscriber("sub", map[string]events.Handler{"thing.made": noop}, events.BatchHandlers(batch)),
		).Err()
	}
	err = start(map[string]events.BatchHandler{"thing.gone": noops})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sub has a batch handler of thing.gone but no handler")
	require.NoError(t, start(map[string]events.BatchHandler{"thing.made": noops}))
}
