package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/transport"
)

// Ready asks /health/ready: a 2xx is ready, a 503 is not; probes that fail
// never open the breaker calls go through.
func TestReadyProbesReadinessAroundTheBreaker(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != transport.ReadyPath {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"status":"down"}`))
	}))
	t.Cleanup(srv.Close)
	c := newClient(srv.URL, breakerCalls())
	require.NoError(t, c.Ready(context.Background()))

	status.Store(http.StatusServiceUnavailable)
	for range 5 {
		assert.Error(t, c.Ready(context.Background()))
	}
	assert.Equal(t, "closed", c.CircuitState())
}
