package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
)

// subscribedBy routes "thing.made" to sub and every other type to nobody.
func subscribedBy(eventType string) []string {
	if eventType == "thing.made" {
		return []string{"sub"}
	}
	return nil
}

// writeFanningRelay is pub's relay, woken by wake alone, whose Wake fans
// the events appended in InTx out on write, as the app wires it.
func (w world) writeFanningRelay(wake *events.Wake, cfg config.Events) *events.Relay {
	wake.FanOutOnWrite(subscribedBy)
	return events.NewRelay("pub", w.pub, subscribedBy, w.bus.DeliverBatch, cfg, quiet).WokenBy(wake)
}

type outboxRow struct {
	Type     string `bun:"type"`
	Fanned   bool   `bun:"fanned"`
	Delivery int    `bun:"deliveries"`
}

func (w world) outbox(t *testing.T) []outboxRow {
	t.Helper()
	var rows []outboxRow
	require.NoError(t, w.pub.NewRaw(`SELECT o.type, o.fanned_out_at IS NOT NULL AS fanned,
		(SELECT count(*) FROM event_deliveries d WHERE d.event_seq = o.seq) AS deliveries
		FROM event_outbox o ORDER BY o.seq`).Scan(context.Background(), &rows))
	return rows
}

func TestAnEventAppendedInTxCarriesItsDeliveriesAndNeedsNoFanOut(t *testing.T) {
	for _, isolation := range []string{config.Shared, config.Isolated} {
		t.Run(isolation, func(t *testing.T) {
			w := newWorldIn(t, isolation, record)
			wake := events.NewWake(w.pub)
			wake.FanOutOnWrite(subscribedBy)
			ctx := context.Background()
			require.NoError(t, events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.NewRaw("INSERT INTO things (id) VALUES ('a')").Exec(ctx); err != nil {
					return err
				}
				if err := events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 1}); err != nil {
					return err
				}
				return events.Append(ctx, tx, "pub", "thing.noticed", "a", map[string]int{"n": 1})
			}))
			// Written with their deliveries, before any relay ran: one for
			// the subscribed type, none for the other, both fanned out.
			assert.Equal(t, []outboxRow{{"thing.made", true, 1}, {"thing.noticed", true, 0}}, w.outbox(t))
			assert.True(t, rung(wake), "the commit wakes the relay")
			require.NoError(t, events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
				return events.Append(ctx, tx, "pub", "thing.noticed", "a", map[string]int{"n": 2})
			}))
			assert.False(t, rung(wake), "an event nobody subscribes to leaves the relay asleep")

			// A relay whose fan-out only polls, an hour away, delivers it.
			wake.Ring()
			start(t, w.writeFanningRelay(wake, asleep))
			require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 1 }, 10*time.Second, 5*time.Millisecond)
			for n := 2; n <= 3; n++ {
				w.publish(t, "a", n)
				require.Eventually(t, func() bool { return len(w.effects(t, "a")) == n }, 10*time.Second, 5*time.Millisecond)
			}
			assert.Equal(t, []int{1, 2, 3}, w.effects(t, "a"))
			w.requireDrained(t)
		})
	}
}

func TestAnEventAppendedOutsideInTxIsLeftToTheRelaysFanOut(t *testing.T) {
	w := newWorld(t, record)
	wake := events.NewWake(w.pub)
	wake.FanOutOnWrite(subscribedBy)
	ctx := context.Background()
	_, err := w.pub.NewRaw("INSERT INTO things (id) VALUES ('a')").Exec(ctx)
	require.NoError(t, err)
	require.NoError(t, w.pub.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 1})
	}))
	assert.Equal(t, []outboxRow{{"thing.made", false, 0}}, w.outbox(t), "no Wake saw it: the relay fans it out")
}

// An event no Wake fanned out (a writer in another process, or outside
// InTx) and a later one of the same aggregate that carried its deliveries
// still reach the subscriber in order: the later one waits until the
// relay's fan-out has made the earlier one's delivery.
func TestOrderPerAggregateHoldsAcrossEventsFannedOutOnWriteAndByTheRelay(t *testing.T) {
	w := newWorld(t, record)
	wake := events.NewWake(w.pub)
	ctx := context.Background()
	_, err := w.pub.NewRaw("INSERT INTO things (id) VALUES ('a')").Exec(ctx)
	require.NoError(t, err)
	// The fan-out polls every 300 ms, and has just had its first round.
	slowFanOut := fast
	slowFanOut.PollInterval = 300 * time.Millisecond
	start(t, w.writeFanningRelay(wake, slowFanOut))
	time.Sleep(50 * time.Millisecond)
	// The first, as another process writes it: no Wake, no deliveries.
	other := w.connect(t, "pub")
	require.NoError(t, other.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 1})
	}))
	// The second, written with its delivery, wakes the delivery loop at
	// once: it would go first if the claim did not wait for the first's
	// fan-out, up to a poll away.
	require.NoError(t, events.InTx(ctx, w.pub, func(ctx context.Context, tx bun.Tx) error {
		return events.Append(ctx, tx, "pub", "thing.made", "a", map[string]int{"n": 2})
	}))
	require.Eventually(t, func() bool { return len(w.effects(t, "a")) == 2 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, []int{1, 2}, w.effects(t, "a"))
	w.requireDrained(t)
}
