package process_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/advise"
	"mitosis/platform/config"
	"mitosis/platform/process"
	"mitosis/platform/telemetry"
	"mitosis/platform/transport"
)

// The probe's peer answers the echo route through a process's server
// stack: the trace and security headers of the shared middleware, and the
// internal-route guard, which refuses an /internal/ path naming no module
// as a process does; a process's prober times round trips to it.
func TestPeerServesTheProbeThroughAProcesssStack(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"TRACING": "memory", "DATA_DIR": t.TempDir()}[k]
	}, nil)
	require.NoError(t, err)
	peer, err := process.StartPeer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, peer.Stop(context.Background())) })

	f := transport.NewFactory(config.Config{Calls: config.Calls{Timeout: 5 * time.Second, MaxConcurrency: 4,
		BreakerFailures: 5, BreakerCooldown: time.Second}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	prober := advise.NewProber(f, func() string { return "" }, "orders")
	res, err := prober.Probe(context.Background(), advise.ProbeRequest{Calls: 20, RequestBytes: 256, ResponseBytes: 512, Target: peer.URL()})
	require.NoError(t, err)
	require.Len(t, res.Seconds, 20)

	resp, err := http.Post(peer.URL()+"/internal/_probe/echo", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEmpty(t, resp.Header.Get(telemetry.TraceIDHeader), "the trace headers of every process's server")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "the security headers")

	resp, err = http.Post(peer.URL()+"/internal/", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the internal-route guard")
}
