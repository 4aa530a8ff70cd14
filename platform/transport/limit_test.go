package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/transport"
)

func TestCallsInFlightAreCapped(t *testing.T) {
	var inFlight, most, hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		_, _ = w.Write([]byte(`{"greeting":"hello"}`))
	}))
	t.Cleanup(srv.Close)
	calls := testCalls()
	calls.MaxConcurrency, calls.BreakerFailures = 2, 1
	c := newClient(srv.URL, calls)

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			_, err := greet(context.Background(), c, transport.Read)
			assert.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return inFlight.Load() == 2 }, 5*time.Second, time.Millisecond)

	// A caller whose deadline passes while it waits for a slot gets the
	// deadline's error, and the module never sees its call.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := greet(ctx, c, transport.Read)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(2), hits.Load())

	close(release)
	wg.Wait()
	assert.Equal(t, int64(2), most.Load())
	assert.Equal(t, int64(6), hits.Load())
	assert.Equal(t, "closed", c.CircuitState(), "waiting for a slot is not the module's failure")
}
