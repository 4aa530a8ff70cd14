package events_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/events"
)

func made(t *testing.T, aggregate string, n int) events.Event {
	t.Helper()
	e, err := events.New("pub", "thing.made", aggregate, map[string]int{"n": n})
	require.NoError(t, err)
	return e
}

// recordBatch is record's set-based form: one statement for the batch,
// and it counts its calls.
func recordBatch(calls *atomic.Int32) events.BatchHandler {
	return func(ctx context.Context, tx bun.Tx, es []events.Event) error {
		calls.Add(1)
		for _, e := range es {
			if err := record(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}
}

// An event is applied once however often it comes: twice in one batch
// (once spelled in capitals), or again in a later batch beside new ones.
func TestABatchAppliesEachEventOnceWhateverRepeats(t *testing.T) {
	w := newWorld(t, record)
	ctx := context.Background()
	a1, a2, b1 := made(t, "a", 1), made(t, "a", 2), made(t, "b", 1)
	shouted := a1
	shouted.ID = strings.ToUpper(a1.ID)
	errs := w.bus.DeliverBatch(ctx, "sub", []events.Event{a1, b1, shouted, a1})
	require.Equal(t, []error{nil, nil, nil, nil}, errs)
	assert.Equal(t, []int{1}, w.effects(t, "a"))
	assert.Equal(t, []int{1}, w.effects(t, "b"))

	errs = w.bus.DeliverBatch(ctx, "sub", []events.Event{b1, a2, a1})
	require.Equal(t, []error{nil, nil, nil}, errs)
	assert.Equal(t, []int{1, 2}, w.effects(t, "a"), "only the new one applied, after the first")
	assert.Equal(t, []int{1}, w.effects(t, "b"))
	assert.Equal(t, 3, count(t, w.sub, "SELECT count(*) FROM event_inbox"))

	// A batch of events all seen before changes nothing.
	errs = w.bus.DeliverBatch(ctx, "sub", []events.Event{a1, a2, b1})
	require.Equal(t, []error{nil, nil, nil}, errs)
	assert.Equal(t, 3, count(t, w.sub, "SELECT count(*) FROM effects"))
}

// One event its handler refuses fails alone: the others of its batch are
// applied, each once, and the refused one has no effect and no inbox row.
func TestAPoisonEventFailsAloneInItsBatch(t *testing.T) {
	poison := errors.New("cannot handle this one")
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if e.AggregateID == "poison" {
			return poison
		}
		return record(ctx, tx, e)
	})
	batch := []events.Event{made(t, "a", 1), made(t, "poison", 1), made(t, "b", 1), made(t, "c", 1)}
	errs := w.bus.DeliverBatch(context.Background(), "sub", batch)
	require.Len(t, errs, 4)
	assert.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], poison)
	assert.Contains(t, errs[1].Error(), "sub handling thing.made "+batch[1].ID)
	assert.NoError(t, errs[2])
	assert.NoError(t, errs[3])
	for _, agg := range []string{"a", "b", "c"} {
		assert.Equal(t, []int{1}, w.effects(t, agg), agg)
	}
	assert.Empty(t, w.effects(t, "poison"))
	assert.Zero(t, count(t, w.sub, "SELECT count(*) FROM event_inbox WHERE event_id = ?", batch[1].ID), "not recorded as handled")

	// A type without a handler fails alone too, with its code.
	other := made(t, "d", 1)
	other.Type = "thing.unknown"
	errs = w.bus.DeliverBatch(context.Background(), "sub", []events.Event{other, made(t, "d", 2)})
	require.ErrorIs(t, errs[0], events.ErrNoHandler)
	require.NoError(t, errs[1])
	assert.Equal(t, []int{2}, w.effects(t, "d"))
}

// Through the relay, a poison event in a batch retries and dead-letters
// on its own; every other event of its batches is delivered once.
func TestARelayDeadLettersThePoisonEventOfABatchAlone(t *testing.T) {
	var poisonCalls atomic.Int32
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if e.AggregateID == "poison" {
			poisonCalls.Add(1)
			return errors.New("cannot handle this one")
		}
		return record(ctx, tx, e)
	})
	for i := range 5 {
		w.publish(t, string(rune('a'+i)), 1)
	}
	poisonID := w.publish(t, "poison", 1)
	for i := range 4 {
		w.publish(t, string(rune('f'+i)), 1)
	}
	r := w.relay(nil)
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'dead'") == 1
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, fast.MaxAttempts, count(t, w.pub, "SELECT attempts FROM event_deliveries WHERE status = 'dead'"), "attempted exactly MaxAttempts times")
	// Its first attempt came in a batch, tried as one and then alone; its
	// retries go apart from the first attempts of others, alone here.
	assert.EqualValues(t, fast.MaxAttempts+1, poisonCalls.Load())
	assert.Equal(t, 9, count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'delivered' AND attempts = 1"),
		"the others delivered at their first attempt")
	assert.Equal(t, 9, count(t, w.sub, "SELECT count(*) FROM effects"))
	dead, err := events.DeadLetters(context.Background(), w.pub)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, poisonID, dead[0].ID)
}

// A subscriber's BatchHandler applies a run of events in one call; an
// event it cannot apply makes the batch fall back to the Handler, one
// event at a time, where it fails alone.
func TestABatchHandlerAppliesARunAndFallsBackToTheHandler(t *testing.T) {
	w := newWorld(t, record)
	var calls atomic.Int32
	w.bus.Subscribe("sub", w.sub, map[string]events.Handler{"thing.made": record},
		events.BatchHandlers(map[string]events.BatchHandler{"thing.made": recordBatch(&calls)}))
	ctx := context.Background()
	errs := w.bus.DeliverBatch(ctx, "sub", []events.Event{made(t, "a", 1), made(t, "b", 1), made(t, "c", 1)})
	require.Equal(t, []error{nil, nil, nil}, errs)
	assert.EqualValues(t, 1, calls.Load(), "one call for the run")
	assert.Equal(t, 3, count(t, w.sub, "SELECT count(*) FROM effects"))

	// An event whose payload is not what the handlers read.
	bad := made(t, "d", 1)
	bad.Payload = []byte(`{"n":"one"}`)
	errs = w.bus.DeliverBatch(ctx, "sub", []events.Event{made(t, "d", 2), bad, made(t, "e", 1)})
	require.NoError(t, errs[0])
	require.Error(t, errs[1])
	require.NoError(t, errs[2])
	assert.EqualValues(t, 2, calls.Load(), "the failed batch was tried once as a batch")
	assert.Equal(t, []int{2}, w.effects(t, "d"))
	assert.Equal(t, []int{1}, w.effects(t, "e"))
}

// A database connection that dies in the middle of a batch applies none
// of it (one transaction); applied again one by one, each event has its
// effect once.
func TestABatchCutByADeadConnectionIsAppliedOnceAfterwards(t *testing.T) {
	var killed atomic.Bool
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if err := record(ctx, tx, e); err != nil {
			return err
		}
		if e.AggregateID == "b" && killed.CompareAndSwap(false, true) {
			// The backend of this very transaction dies, as in a crash.
			_, err := tx.NewRaw("SELECT pg_terminate_backend(pg_backend_pid())").Exec(ctx)
			return err
		}
		return nil
	})
	errs := w.bus.DeliverBatch(context.Background(), "sub", []events.Event{made(t, "a", 1), made(t, "b", 1), made(t, "c", 1)})
	require.True(t, killed.Load(), "the connection was killed mid-batch")
	require.Equal(t, []error{nil, nil, nil}, errs)
	for _, agg := range []string{"a", "b", "c"} {
		assert.Equal(t, []int{1}, w.effects(t, agg), agg)
	}
}

// Stopped while a batch is in the subscriber's hands past the shutdown's
// time, the relay records nothing: its claims are released, the deliveries
// stay pending with no attempt counted, and the next relay delivers each
// event once.
func TestARelayStoppedMidBatchReleasesItsClaims(t *testing.T) {
	inHand := make(chan struct{})
	var once sync.Once
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if err := record(ctx, tx, e); err != nil {
			return err
		}
		once.Do(func() {
			close(inHand)
			<-ctx.Done() // held until the shutdown cuts it short
		})
		return ctx.Err()
	})
	for i := range 3 {
		w.publish(t, string(rune('a'+i)), 1)
	}
	r := w.relay(nil)
	r.Start()
	<-inHand
	stopping, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.NoError(t, r.Stop(stopping))
	assert.Equal(t, 3, count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'pending' AND attempts = 0"))
	assert.Zero(t, count(t, w.sub, "SELECT count(*) FROM effects"), "the cut batch applied nothing")

	next := w.relay(nil)
	require.Eventually(t, func() bool {
		_, err := next.RunOnce(context.Background())
		require.NoError(t, err)
		return count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'delivered'") == 3
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 3, count(t, w.sub, "SELECT count(*) FROM effects"))
}

// A claimed batch never holds two events of one aggregate: the later
// waits for the earlier's delivery, so a batch may be applied in any order.
func TestABatchHoldsOneEventPerAggregate(t *testing.T) {
	w := newWorld(t, record)
	var mu sync.Mutex
	var batches [][]string
	r := w.relay(func(ctx context.Context, sub string, batch []events.Event) []error {
		mu.Lock()
		var aggs []string
		for _, e := range batch {
			aggs = append(aggs, e.AggregateID)
		}
		batches = append(batches, aggs)
		mu.Unlock()
		return w.bus.DeliverBatch(ctx, sub, batch)
	})
	for n := 1; n <= 3; n++ {
		w.publish(t, "a", n)
		w.publish(t, "b", n)
	}
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return len(w.effects(t, "a")) == 3 && len(w.effects(t, "b")) == 3
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, []int{1, 2, 3}, w.effects(t, "a"))
	assert.Equal(t, []int{1, 2, 3}, w.effects(t, "b"))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, [][]string{{"a", "b"}, {"a", "b"}, {"a", "b"}}, batches)
}
