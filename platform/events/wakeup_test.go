package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/pgtest"
)

// asleep polls once an hour: within a test only the commit's notification
// can wake it.
var asleep = func() config.Events { c := fast; c.PollInterval = time.Hour; return c }()

func (w world) sleepyRelay() *events.Relay {
	return events.NewRelay("pub", w.pub, func(string) []string { return []string{"sub"} }, w.bus.DeliverBatch, asleep, quiet)
}

func TestACommittedEventWakesTheRelayWithoutAPoll(t *testing.T) {
	for _, isolation := range []string{config.Shared, config.Isolated} {
		t.Run(isolation, func(t *testing.T) {
			w := newWorldIn(t, isolation, record)
			r := w.sleepyRelay()
			r.Start()
			t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
			require.Eventually(t, func() bool { return len(listeners(t)) == 1 }, 5*time.Second, 10*time.Millisecond)
			for n := 1; n <= 3; n++ {
				w.publish(t, "a", n)
				require.Eventually(t, func() bool { return len(w.effects(t, "a")) == n }, 5*time.Second, 5*time.Millisecond)
			}
			assert.Equal(t, []int{1, 2, 3}, w.effects(t, "a"))
		})
	}
}

func TestTheRelayListensAgainAfterLosingItsConnection(t *testing.T) {
	w := newWorld(t, record)
	r := w.sleepyRelay()
	r.Start()
	t.Cleanup(func() { require.NoError(t, r.Stop(context.Background())) })
	var first []int
	require.Eventually(t, func() bool { first = listeners(t); return len(first) == 1 }, 5*time.Second, 10*time.Millisecond)
	w.publish(t, "a", 1)
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 5*time.Second, 5*time.Millisecond)

	admin := adminConn(t)
	_, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", first[0])
	require.NoError(t, err)
	w.publish(t, "a", 2) // committed while the relay may not listen: the re-LISTEN's catch-up finds it
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { l := listeners(t); return len(l) == 1 && l[0] != first[0] }, 5*time.Second, 10*time.Millisecond)
	w.publish(t, "a", 3) // and listening again, woken by the notification
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 3 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []int{1, 2, 3}, w.effects(t, "a"))
	w.requireDrained(t)
}

// listeners are the backends of the test cluster waiting in LISTEN.
func listeners(t *testing.T) []int {
	t.Helper()
	rows, err := adminConn(t).Query(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN \"mitosis_outbox_%' AND state = 'idle' ORDER BY pid")
	require.NoError(t, err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	return pids
}

func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}
