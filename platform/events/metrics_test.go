package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/events"
)

// gauge reads the gauge name with the labels given, as "k=v,..." in label
// name order, from reg.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.Metric{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			out[key] = m
		}
	}
	return out
}

// The backlog is read from the outbox at scrape time: events not yet
// fanned out, then deliveries waiting with the age of the oldest, then
// dead letters; the delivery durations are observed by the relay.
func TestTheBacklogIsScrapedFromTheOutbox(t *testing.T) {
	w := newWorld(t, record)
	m := events.NewMetrics()
	m.Watch("pub", w.pub, "sub")
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	assert.Equal(t, 0.0, gathered(t, reg)["mitosis_events_pending_deliveries,module=pub,subscriber=sub"].GetGauge().GetValue(),
		"a subscriber's series is there before any event")
	assert.Contains(t, gathered(t, reg), "mitosis_events_pending_deliveries,module=pub,subscriber=sub")

	w.publish(t, "a", 1)
	w.publish(t, "b", 2)
	got := gathered(t, reg)
	assert.Equal(t, 1.0, got["mitosis_events_backlog_up,module=pub"].GetGauge().GetValue())
	assert.Equal(t, 2.0, got["mitosis_events_outbox_unpublished,module=pub"].GetGauge().GetValue())
	assert.GreaterOrEqual(t, got["mitosis_events_outbox_oldest_unpublished_age_seconds,module=pub"].GetGauge().GetValue(), 0.0)

	// Every attempt fails: the deliveries wait, then die.
	failing := w.relay(events.OneByOne(func(context.Context, string, events.Event) error { return errors.New("subscriber down") })).Measured(m)
	_, err := failing.RunOnce(context.Background())
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	got = gathered(t, reg)
	assert.Equal(t, 0.0, got["mitosis_events_outbox_unpublished,module=pub"].GetGauge().GetValue(), "fanned out")
	assert.Equal(t, 2.0, got["mitosis_events_pending_deliveries,module=pub,subscriber=sub"].GetGauge().GetValue())
	assert.Greater(t, got["mitosis_events_oldest_pending_age_seconds,module=pub,subscriber=sub"].GetGauge().GetValue(), 0.0)
	failed := got["mitosis_events_delivery_duration_seconds,module=pub,outcome=failed,subscriber=sub"].GetHistogram()
	assert.Equal(t, uint64(2), failed.GetSampleCount())

	require.Eventually(t, func() bool {
		_, err := failing.RunOnce(context.Background())
		require.NoError(t, err)
		return gathered(t, reg)["mitosis_events_dead_letters,module=pub,subscriber=sub"].GetGauge().GetValue() == 2
	}, 5*time.Second, 5*time.Millisecond)
	got = gathered(t, reg)
	assert.Equal(t, 0.0, got["mitosis_events_pending_deliveries,module=pub,subscriber=sub"].GetGauge().GetValue(),
		"the dead are not pending")
	dead := m.States(context.Background())
	require.Len(t, dead, 1)
	require.Len(t, dead[0].DeadLetters, 2, "the console lists the dead letters")
	assert.Equal(t, "sub", dead[0].DeadLetters[0].Subscriber)
	assert.Equal(t, "subscriber down", dead[0].DeadLetters[0].LastError)
	assert.Empty(t, dead[0].Error)

	// Replayed and delivered: nothing waits, nothing is dead.
	n, err := events.Replay(context.Background(), w.pub, "")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	ok := w.relay(nil).Measured(m)
	_, err = ok.RunOnce(context.Background())
	require.NoError(t, err)
	got = gathered(t, reg)
	assert.Equal(t, 0.0, got["mitosis_events_dead_letters,module=pub,subscriber=sub"].GetGauge().GetValue())
	assert.Equal(t, 0.0, got["mitosis_events_pending_deliveries,module=pub,subscriber=sub"].GetGauge().GetValue())
	assert.Equal(t, uint64(2), got["mitosis_events_delivery_duration_seconds,module=pub,outcome=delivered,subscriber=sub"].GetHistogram().GetSampleCount())

	// The console counts the same attempts.
	states := m.States(context.Background())
	require.Len(t, states, 1)
	require.Len(t, states[0].Subscribers, 1)
	sub := states[0].Subscribers[0]
	assert.Equal(t, "sub", sub.Subscriber)
	assert.Equal(t, uint64(2), sub.Delivered)
	assert.Equal(t, got["mitosis_events_delivery_duration_seconds,module=pub,outcome=failed,subscriber=sub"].GetHistogram().GetSampleCount(),
		sub.Failed)
	assert.GreaterOrEqual(t, sub.Failed, uint64(2))
}

// An outbox whose database does not answer is reported as such, and the
// scrape still answers.
func TestAnUnreadableOutboxIsReported(t *testing.T) {
	w := newWorld(t, record)
	m := events.NewMetrics()
	m.Watch("pub", w.pub)
	require.NoError(t, w.pub.Close())
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	got := gathered(t, reg)
	assert.Equal(t, 0.0, got["mitosis_events_backlog_up,module=pub"].GetGauge().GetValue())
	assert.NotContains(t, got, "mitosis_events_outbox_unpublished,module=pub")
}
