package events_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

func TestAppendRollsBackWithItsTransaction(t *testing.T) {
	w := newWorld(t, record)
	boom := errors.New("boom")
	err := w.pub.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("INSERT INTO things (id) VALUES ('a')").Exec(ctx); err != nil {
			return err
		}
		if err := events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 1}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Zero(t, count(t, w.pub, "SELECT count(*) FROM event_outbox"), "no event without the change")
	assert.Zero(t, count(t, w.pub, "SELECT count(*) FROM things"))
}

func TestRelayDeliversToALocalSubscriberInOrder(t *testing.T) {
	w := newWorld(t, record)
	r := w.relay(nil)
	r.Start()
	t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	for n := 1; n <= 5; n++ {
		w.publish(t, "a", n)
	}
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 5 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, w.effects(t, "a"))
	w.requireDrained(t)
}

func TestARedeliveredEventHasNoSecondEffect(t *testing.T) {
	w := newWorld(t, record)
	e, err := events.New("pub", "thing.made", "a", map[string]int{"n": 7})
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, w.bus.Deliver(context.Background(), "sub", e))
	}
	assert.Equal(t, []int{7}, w.effects(t, "a"))

	// The relay loses its acknowledgement after the handler committed: the
	// delivery is retried, and the inbox absorbs it.
	w.publish(t, "b", 1)
	lost := 0
	r := w.relay(events.OneByOne(func(ctx context.Context, sub string, e events.Event) error {
		if err := w.bus.Deliver(ctx, sub, e); err != nil {
			return err
		}
		if lost++; lost == 1 {
			return errors.New("connection reset after the handler committed")
		}
		return nil
	}))
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return lost == 2
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []int{1}, w.effects(t, "b"))
}

func TestAFailingSubscriberRetriesThenDeadLettersAndReplayDelivers(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var calls atomic.Int32
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		calls.Add(1)
		if failing.Load() {
			return errors.New("subscriber down")
		}
		return record(ctx, tx, e)
	})
	id := w.publish(t, "a", 1)
	r := w.relay(nil)

	start := time.Now()
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'dead'") == 1
	}, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, fast.MaxAttempts, calls.Load(), "attempted exactly MaxAttempts times")
	assert.GreaterOrEqual(t, time.Since(start), fast.BackoffBase/2+fast.BackoffBase, "waited between attempts")

	dead, err := events.DeadLetters(context.Background(), w.pub)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, id, dead[0].ID)
	assert.Equal(t, "sub", dead[0].Subscriber)
	assert.Contains(t, dead[0].LastError, "subscriber down")
	lags, _, err := events.Status(context.Background(), w.pub)
	require.NoError(t, err)
	require.Len(t, lags, 1)
	assert.Equal(t, 1, lags[0].Dead)

	// More attempts change nothing while it is dead.
	_, err = r.RunOnce(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, fast.MaxAttempts, calls.Load())

	failing.Store(false)
	n, err := events.Replay(context.Background(), w.pub, id)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = r.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []int{1}, w.effects(t, "a"))
}

func TestOrderPerAggregateHoldsWhenAnEarlyEventFails(t *testing.T) {
	var failures atomic.Int32
	failures.Store(2)
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if e.AggregateID == "a" && failures.Load() > 0 {
			failures.Add(-1)
			return errors.New("not yet")
		}
		return record(ctx, tx, e)
	})
	w.publish(t, "a", 1)
	w.publish(t, "a", 2)
	w.publish(t, "b", 1)
	r := w.relay(nil)
	_, err := r.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Empty(t, w.effects(t, "a"), "the second event waits for the first")
	assert.Equal(t, []int{1}, w.effects(t, "b"), "another aggregate is not held up")
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return len(w.effects(t, "a")) == 2
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, []int{1, 2}, w.effects(t, "a"))
}

func TestTwoRelaysNeverDeliverARowTwiceConcurrently(t *testing.T) {
	w := newWorld(t, record)
	const aggregates = 20
	for i := range aggregates {
		w.publish(t, string(rune('a'+i)), 1)
	}
	var mu sync.Mutex
	delivered := map[string]int{}
	deliver := func(ctx context.Context, sub string, batch []events.Event) []error {
		mu.Lock()
		for _, e := range batch {
			delivered[e.ID]++
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // hold the claim while the other relay polls
		return w.bus.DeliverBatch(ctx, sub, batch)
	}
	relays := []*events.Relay{w.relay(deliver), w.relay(deliver)}
	for _, r := range relays {
		r.Start()
		t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	}
	require.Eventually(t, func() bool {
		return count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'delivered'") == aggregates
	}, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, delivered, aggregates)
	for id, n := range delivered {
		assert.Equal(t, 1, n, "event %s delivered %d times", id, n)
	}
}

func TestRelayDeliversToARemoteSubscriberOverHTTP(t *testing.T) {
	w := newWorld(t, record)
	e := httpserver.New(config.Config{}, quiet)
	events.Mount(e, w.bus)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	cfg := config.Config{Calls: config.Calls{Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond, MaxConcurrency: 8, BreakerFailures: 5, BreakerCooldown: time.Second}}
	place := topology.Manual(nil, map[string]string{"sub": srv.URL})
	here := events.NewBus() // the publisher's process has no local subscriber
	r := w.relay(events.NewDeliverer(here, place, transport.NewFactory(cfg, nil, quiet), nil))
	w.publish(t, "a", 1)
	w.publish(t, "a", 2)
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return len(w.effects(t, "a")) == 2
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []int{1, 2}, w.effects(t, "a"))

	// A subscriber the receiving process does not run is a coded error.
	made, err := events.New("pub", "thing.made", "x", map[string]int{"n": 1})
	require.NoError(t, err)
	errs := events.NewDeliverer(here, topology.Manual(nil, map[string]string{"nobody": srv.URL}), transport.NewFactory(cfg, nil, quiet), nil)(
		context.Background(), "nobody", []events.Event{made})
	require.ErrorIs(t, errs[0], events.ErrUnknownSubscriber)
}

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	cfg := config.Events{BackoffBase: time.Second, BackoffMax: time.Minute}
	for attempts, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 30: time.Minute} {
		for range 50 {
			d := events.Backoff(cfg, attempts)
			assert.GreaterOrEqual(t, d, base/2, "attempt %d", attempts)
			assert.Less(t, d, base+base/2, "attempt %d", attempts)
		}
	}
}
