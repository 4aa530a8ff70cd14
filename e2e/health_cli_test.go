package e2e

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/platform/pgtest"
)

// TestHealthCommand probes processes with `app health`, as a container
// healthcheck does: 0 and one line when /health/ready answers 200, 1
// otherwise (a 503, nothing listening).
func TestHealthCommand(t *testing.T) {
	t.Parallel()
	p := startApp(t, "app", map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)})
	p.waitReady(t)

	stdout, stderr, err := runApp(t, nil, "health", "--url", p.url)
	require.NoError(t, err, stderr)
	require.Equal(t, "ready: "+p.url+"/health/ready answered 200\n", stdout)

	// Without --url: this configuration's HTTP_ADDR, on loopback.
	_, port, err := net.SplitHostPort(strings.TrimPrefix(p.url, "http://"))
	require.NoError(t, err)
	stdout, stderr, err = runApp(t, map[string]string{"HTTP_ADDR": ":" + port}, "health")
	require.NoError(t, err, stderr)
	require.Equal(t, "ready: http://127.0.0.1:"+port+"/health/ready answered 200\n", stdout)

	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/health/ready", r.URL.Path)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(unready.Close)
	for name, url := range map[string]string{"503": unready.URL, "nothing listening": "http://" + freeAddr(t)} {
		stdout, stderr, err := runApp(t, nil, "health", "--url", url, "--timeout", "2s")
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), name)
		require.Equal(t, 1, exit.ExitCode(), name)
		require.Empty(t, stdout, name)
		require.Contains(t, errorLine(t, stderr), "not ready", name)
	}
}
