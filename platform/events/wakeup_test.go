package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/natstest"
	"mitosis/platform/pgtest"
)

// asleep polls once an hour: within a test only a commit's wake-up (or a
// retry of a contended lock) can start a round.
var asleep = func() config.Events { c := fast; c.PollInterval = time.Hour; return c }()

// sleepyRelay is a relay of pub's outbox on bdb, woken by wake alone.
func (w world) sleepyRelay(bdb *bun.DB, wake *events.Wake) *events.Relay {
	return events.NewRelay("pub", bdb, func(string) []string { return []string{"sub"} }, w.bus.DeliverBatch, asleep, quiet).WokenBy(wake)
}

func start(t *testing.T, r *events.Relay) {
	t.Helper()
	r.Start()
	t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
}

func TestACommittedEventWakesTheRelayWithoutAPoll(t *testing.T) {
	for _, isolation := range []string{config.Shared, config.Isolated} {
		t.Run(isolation, func(t *testing.T) {
			w := newWorldIn(t, isolation, record)
			start(t, w.sleepyRelay(w.pub, events.NewWake(w.pub)))
			for n := 1; n <= 3; n++ {
				w.publish(t, "a", n)
				require.Eventually(t, func() bool { return len(w.effects(t, "a")) == n }, 10*time.Second, 5*time.Millisecond)
			}
			assert.Equal(t, []int{1, 2, 3}, w.effects(t, "a"))
			w.requireDrained(t)
		})
	}
}

// A claim holds one event per aggregate and subscriber, so the events of
// one aggregate committed together go out one round each: the rounds after
// the first are started by the round before it, which saw the next of the
// aggregate held back, with no commit left to wake the relay.
func TestAnAggregatesEventsCommittedTogetherAllGoOutWithoutAPoll(t *testing.T) {
	w := newWorldIn(t, config.Shared, record)
	wake := events.NewWake(w.pub)
	require.NoError(t, events.InTx(context.Background(), w.pub, func(ctx context.Context, tx bun.Tx) error {
		for _, a := range []string{"a", "b"} {
			if _, err := tx.NewRaw("INSERT INTO things (id) VALUES (?)", a).Exec(ctx); err != nil {
				return err
			}
		}
		for n := 1; n <= 4; n++ {
			e, err := events.New("pub", "thing.made", "a", map[string]int{"n": n})
			require.NoError(t, err)
			if err := events.AppendEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		e, err := events.New("pub", "thing.made", "b", map[string]int{"n": 1})
		require.NoError(t, err)
		return events.AppendEvent(ctx, tx, e)
	}))
	start(t, w.sleepyRelay(w.pub, wake))
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 4 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, []int{1, 2, 3, 4}, w.effects(t, "a"))
	assert.Equal(t, []int{1}, w.effects(t, "b"))
	w.requireDrained(t)
}

// rung reports whether wake has a wake-up pending, and takes it.
func rung(wake *events.Wake) bool {
	select {
	case <-wake.C():
		return true
	default:
		return false
	}
}

func TestOnlyACommitThatAppendedRingsTheWake(t *testing.T) {
	w := newWorld(t, record)
	wake := events.NewWake(w.pub)
	ctx := context.Background()

	boom := errors.New("boom")
	err := events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
		if err := events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 1}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.False(t, rung(wake), "a rolled-back event wakes nothing")

	require.NoError(t, events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("INSERT INTO things (id) VALUES ('b')").Exec(ctx)
		return err
	}))
	assert.False(t, rung(wake), "a commit without an event wakes nothing")

	// A commit that fails (a deferred unique check, made at COMMIT).
	_, err = w.pub.ExecContext(ctx, "CREATE TABLE once (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
	require.NoError(t, err)
	err = events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("INSERT INTO once VALUES (1), (1)").Exec(ctx); err != nil {
			return err
		}
		return events.Append(ctx, tx, "pub", "thing.made", "c", map[string]int{"n": 1})
	})
	require.Error(t, err, "the commit fails")
	assert.False(t, rung(wake), "an event whose commit failed wakes nothing")
	assert.Zero(t, count(t, w.pub, "SELECT count(*) FROM event_outbox"))

	w.publish(t, "d", 1)
	assert.True(t, rung(wake), "a committed event wakes the relay")
	require.NoError(t, events.Append(ctx, w.pub, "pub", "thing.made", "e", map[string]int{"n": 1}))
	assert.True(t, rung(wake), "an event appended outside a transaction is committed at once, and wakes")

	// Nothing was left behind for the relay: the rolled-back events never
	// reach a subscriber.
	r := w.relay(nil)
	for range 3 {
		_, err := r.RunOnce(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, []int{1}, w.effects(t, "d"))
	assert.Equal(t, []int{1}, w.effects(t, "e"))
	assert.Empty(t, w.effects(t, "a"))
	assert.Empty(t, w.effects(t, "c"))
}

// A replica's relay (another process, with a Wake of its own) may hold
// the outbox's lock when this one is woken, its round having read the
// outbox before the commit: the woken relay tries again until it gets the
// lock, and the event does not wait for the poll.
func TestAWokenRelayRetriesWhenAReplicaHoldsTheLock(t *testing.T) {
	for _, bus := range []struct {
		name, lock string
		// relays sets the bus up and returns how to make a replica's relay.
		relays func(t *testing.T, w world) func(bdb *bun.DB, wake *events.Wake) *events.Relay
	}{
		{config.BrokerPostgres, "mitosis.events.fanout.", func(_ *testing.T, w world) func(*bun.DB, *events.Wake) *events.Relay {
			return w.sleepyRelay
		}},
		{config.BrokerNATS, "mitosis.events.publish.", sleepyNATS},
	} {
		t.Run(bus.name, func(t *testing.T) {
			w := newWorld(t, record)
			replica := w.connect(t, "pub") // the second replica's pool
			mine, theirs := events.NewWake(w.pub), events.NewWake(replica)
			relay := bus.relays(t, w)
			start(t, relay(w.pub, mine))
			start(t, relay(replica, theirs))

			// The lock held elsewhere (as the replica's round holds it)
			// while an event commits here and wakes this relay.
			var schema string
			require.NoError(t, w.pub.NewRaw("SELECT current_schema()").Scan(context.Background(), &schema))
			holder := adminConn(t, w)
			_, err := holder.Exec(context.Background(), "SELECT pg_advisory_lock(hashtext($1))", bus.lock+schema)
			require.NoError(t, err)
			w.publish(t, "a", 1)
			assert.Equal(t, 1, count(t, w.pub, "SELECT count(*) FROM event_outbox WHERE fanned_out_at IS NULL"),
				"nothing is handed on while the lock is held")
			_, err = holder.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", bus.lock+schema)
			require.NoError(t, err)
			// Released without a commit or a notification: only the retry
			// can find it (the poll is an hour away).
			require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 10*time.Second, 5*time.Millisecond)

			// Both replicas write, each waking its own relay: every event
			// arrives, once, in order per aggregate.
			for n := 1; n <= 20; n++ {
				publishOn(t, w.pub, "b", n)
				publishOn(t, replica, "c", n)
			}
			want := make([]int, 20)
			for i := range want {
				want[i] = i + 1
			}
			require.Eventually(t, func() bool { return len(w.effects(t, "b")) == 20 && len(w.effects(t, "c")) == 20 },
				10*time.Second, 5*time.Millisecond)
			assert.Equal(t, want, w.effects(t, "b"))
			assert.Equal(t, want, w.effects(t, "c"))
			assert.Equal(t, []int{1}, w.effects(t, "a"))
			w.requireDrained(t)
		})
	}
}

// sleepyNATS runs an embedded server and sub's consumer, and makes relays
// publishing pub's outbox to it, each with a broker connection of its own
// (a replica's), woken by their wake alone.
func sleepyNATS(t *testing.T, w world) func(*bun.DB, *events.Wake) *events.Relay {
	srv := natstest.Start(t)
	cfg := asleep
	cfg.Broker, cfg.NATSURL = config.BrokerNATS, srv.ClientURL()
	broker := func() *events.Broker {
		b := events.NewBroker(cfg, quiet)
		require.NoError(t, b.Start(context.Background()))
		t.Cleanup(b.Stop)
		return b
	}
	c := broker().Consumer("sub", []string{"thing.made"}, w.bus, w.sub)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	return func(bdb *bun.DB, wake *events.Wake) *events.Relay {
		return broker().Relay("pub", bdb, quiet).WokenBy(wake)
	}
}

func TestTheOutboxHasNoTriggerAfterMigrations(t *testing.T) {
	for _, isolation := range []string{config.Shared, config.Isolated} {
		t.Run(isolation, func(t *testing.T) {
			w := newWorldIn(t, isolation, record)
			for _, bdb := range []*bun.DB{w.pub, w.sub} {
				assert.Zero(t, count(t, bdb, `SELECT count(*) FROM pg_trigger
					WHERE tgrelid = 'event_outbox'::regclass AND NOT tgisinternal`), "no trigger on the outbox")
				assert.Zero(t, count(t, bdb, `SELECT count(*) FROM pg_proc
					WHERE proname = 'event_outbox_notify' AND pronamespace = current_schema()::regnamespace`), "its function is gone")
			}
			// And a commit to the outbox notifies no one: a listener on the
			// old channel has nothing once the event is delivered.
			var schema string
			require.NoError(t, w.pub.NewRaw("SELECT current_schema()").Scan(context.Background(), &schema))
			l := adminConn(t, w)
			_, err := l.Exec(context.Background(), "LISTEN "+pgx.Identifier{"mitosis_outbox_" + schema}.Sanitize())
			require.NoError(t, err)
			w.publish(t, "a", 1)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			n, err := l.WaitForNotification(ctx)
			assert.Nil(t, n, "no notification on commit")
			require.ErrorIs(t, err, context.DeadlineExceeded)
		})
	}
}

// adminConn is a connection of its own to pub's database, as the
// superuser.
func adminConn(t *testing.T, w world) *pgx.Conn {
	t.Helper()
	var dbname string
	require.NoError(t, w.pub.NewRaw("SELECT current_database()").Scan(context.Background(), &dbname))
	cfg, err := pgx.ParseConfig(pgtest.AdminURL(t))
	require.NoError(t, err)
	cfg.Database = dbname
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}
