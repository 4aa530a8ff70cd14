package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/transport"
)

// The collector shows each remote module's breaker state and the calls
// holding its slots, as they are at scrape time.
func TestTheCollectorShowsBreakersAndCallsInFlight(t *testing.T) {
	release := make(chan struct{})
	var held sync.WaitGroup
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Done()
		<-release
		_, _ = w.Write([]byte(`{"greeting":"hello"}`))
	}))
	t.Cleanup(slow.Close)
	failing := newScripted(t, 503)

	calls := breakerCalls()
	calls.MaxConcurrency = 4
	f := transport.NewFactory(config.Config{Calls: calls}, nil, quiet())
	users := f.New("users", slow.URL)
	payments := f.New("payments", failing.URL)
	for range 3 {
		_, _ = greet(context.Background(), payments, transport.Read)
	}
	held.Add(3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = greet(context.Background(), users, transport.Read) })
	}
	waitGroup(t, &held)

	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(f.Collector()))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP mitosis_transport_breaker_state This process's circuit breaker of a remote module: 1 for its current state (closed, half-open, open), 0 for the others.
# TYPE mitosis_transport_breaker_state gauge
mitosis_transport_breaker_state{module="payments",state="closed"} 0
mitosis_transport_breaker_state{module="payments",state="half-open"} 0
mitosis_transport_breaker_state{module="payments",state="open"} 1
mitosis_transport_breaker_state{module="users",state="closed"} 1
mitosis_transport_breaker_state{module="users",state="half-open"} 0
mitosis_transport_breaker_state{module="users",state="open"} 0
# HELP mitosis_transport_call_slots CALL_MAX_CONCURRENCY: calls to a remote module allowed in flight at once.
# TYPE mitosis_transport_call_slots gauge
mitosis_transport_call_slots{module="payments"} 4
mitosis_transport_call_slots{module="users"} 4
# HELP mitosis_transport_calls_in_flight Calls to a remote module holding one of its CALL_MAX_CONCURRENCY slots now.
# TYPE mitosis_transport_calls_in_flight gauge
mitosis_transport_calls_in_flight{module="payments"} 0
mitosis_transport_calls_in_flight{module="users"} 3
`)))
	close(release)
	wg.Wait()
	assert.Equal(t, 0, f.Circuits()[1].InFlight, "slots are given back")
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the calls did not arrive")
	}
}
