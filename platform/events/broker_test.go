package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/natstest"
)

// brokers are the two buses; start runs pub's relay, and with NATS sub's
// consumer, until the test ends.
var brokers = []struct {
	name  string
	start func(t *testing.T, w world)
}{
	{config.BrokerPostgres, func(t *testing.T, w world) {
		r := w.relay(nil)
		r.Start()
		t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	}},
	{config.BrokerNATS, func(t *testing.T, w world) { startNATS(t, w) }},
}

// startNATS runs an embedded server, pub's relay publishing to it and sub's
// consumer, and returns the server.
func startNATS(t *testing.T, w world) *server.Server {
	srv := natstest.Start(t)
	cfg := fast
	cfg.Broker, cfg.NATSURL = config.BrokerNATS, srv.ClientURL()
	b := events.NewBroker(cfg, quiet)
	require.NoError(t, b.Start(context.Background()))
	t.Cleanup(b.Stop)
	r := b.Relay("pub", w.pub, quiet)
	r.Start()
	t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	c := b.Consumer("sub", []string{"thing.made"}, w.bus, w.sub)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	return srv
}

func TestEventsArriveInOrderPerAggregateThroughFailures(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			var failures atomic.Int32
			failures.Store(2)
			w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
				if e.AggregateID == "a" && failures.Load() > 0 {
					failures.Add(-1)
					return errors.New("not yet")
				}
				return record(ctx, tx, e)
			})
			for n := 1; n <= 5; n++ {
				w.publish(t, "a", n)
				w.publish(t, "b", n)
			}
			b.start(t, w)
			require.Eventually(t, func() bool {
				return len(w.effects(t, "a")) == 5 && len(w.effects(t, "b")) == 5
			}, 10*time.Second, 10*time.Millisecond)
			assert.Equal(t, []int{1, 2, 3, 4, 5}, w.effects(t, "a"), "the first event's retries held the later ones back")
			assert.Equal(t, []int{1, 2, 3, 4, 5}, w.effects(t, "b"))
			w.requireDrained(t)
		})
	}
}

func TestAFailingSubscriberDeadLettersAfterMaxAttemptsAndReplayHandlesIt(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
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
			start := time.Now()
			b.start(t, w)

			var dead []events.DeadLetter
			require.Eventually(t, func() bool {
				dead = w.deadLetters(t)
				return len(dead) == 1
			}, 10*time.Second, 5*time.Millisecond)
			assert.EqualValues(t, fast.MaxAttempts, calls.Load(), "attempted exactly MaxAttempts times")
			assert.GreaterOrEqual(t, time.Since(start), fast.BackoffBase/2+fast.BackoffBase, "waited between attempts")
			assert.Equal(t, id, dead[0].ID)
			assert.Equal(t, "sub", dead[0].Subscriber)
			assert.Equal(t, fast.MaxAttempts, dead[0].Attempts)
			assert.Contains(t, dead[0].LastError, "subscriber down")
			assert.Empty(t, w.effects(t, "a"))

			failing.Store(false)
			n := 0
			for _, db := range []*bun.DB{w.pub, w.sub} {
				m, err := events.Replay(context.Background(), db, id)
				require.NoError(t, err)
				n += m
			}
			assert.Equal(t, 1, n, "one dead letter back in line")
			require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 10*time.Second, 5*time.Millisecond)
			assert.EqualValues(t, fast.MaxAttempts+1, calls.Load(), "no attempt while dead, one after the replay")
			assert.Empty(t, w.deadLetters(t))
		})
	}
}

// With NATS, a publish repeated within the dedupe window (the relay lost
// its commit) is dropped by the stream, and one repeated later is
// delivered again and absorbed by the inbox.
func TestARepublishedEventHasNoSecondEffectWithNATS(t *testing.T) {
	w := newWorld(t, record)
	id := w.publish(t, "a", 1)
	srv := startNATS(t, w)
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 5*time.Second, 5*time.Millisecond)

	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	stream, err := js.Stream(context.Background(), events.Stream)
	require.NoError(t, err)
	msgs := func() uint64 {
		info, err := stream.Info(context.Background())
		require.NoError(t, err)
		return info.State.Msgs
	}
	require.EqualValues(t, 1, msgs())

	_, err = w.pub.NewRaw("UPDATE event_outbox SET fanned_out_at = NULL WHERE id = ?", id).Exec(context.Background())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, unfanned, err := events.Status(context.Background(), w.pub)
		require.NoError(t, err)
		return unfanned == 0
	}, 5*time.Second, 5*time.Millisecond, "published again")
	assert.EqualValues(t, 1, msgs(), "the stream dropped the repeat by its Nats-Msg-Id")

	var e events.Event
	require.NoError(t, w.pub.NewRaw("SELECT id, type, aggregate_id, source, payload, occurred_at FROM event_outbox WHERE id = ?", id).
		Scan(context.Background(), &e))
	data, err := json.Marshal(e)
	require.NoError(t, err)
	_, err = js.Publish(context.Background(), events.Subject(e.Type), data, jetstream.WithMsgID("after-the-window"))
	require.NoError(t, err)
	cons, err := stream.Consumer(context.Background(), "mitosis-sub")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := cons.Info(context.Background())
		require.NoError(t, err)
		return info.AckFloor.Stream == 2
	}, 5*time.Second, 5*time.Millisecond, "the repeat was delivered and acknowledged")
	assert.Equal(t, []int{1}, w.effects(t, "a"))
}

// The broker's readiness check fails while the server is down.
func TestBrokerPingFailsWhenNATSIsDown(t *testing.T) {
	srv := natstest.Start(t)
	cfg := fast
	cfg.NATSURL = srv.ClientURL()
	b := events.NewBroker(cfg, quiet)
	require.NoError(t, b.Start(context.Background()))
	t.Cleanup(b.Stop)
	require.NoError(t, b.Ping(context.Background()))
	srv.Shutdown()
	require.Eventually(t, func() bool { return b.Ping(context.Background()) != nil }, 5*time.Second, 10*time.Millisecond)
}

// deadLetters lists the dead letters on both sides: the publisher's
// deliveries (PostgreSQL bus) and the subscriber's own (broker).
func (w world) deadLetters(t *testing.T) []events.DeadLetter {
	t.Helper()
	var out []events.DeadLetter
	for _, db := range []*bun.DB{w.pub, w.sub} {
		list, err := events.DeadLetters(context.Background(), db)
		require.NoError(t, err)
		out = append(out, list...)
	}
	return out
}
