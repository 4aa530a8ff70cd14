package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// While the process drains, every answer closes its connection, so the
// client's next request opens a new one rather than reuse one the server
// is about to close; before, connections are kept alive.
func TestConnectionsCloseAfterEachAnswerWhileDraining(t *testing.T) {
	var draining atomic.Bool
	srv := httptest.NewServer(closeWhile(draining.Load, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	// get answers whether the request went on a reused connection, and
	// whether the answer closed it.
	get := func() (reused, closed bool) {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return reused, resp.Close
	}

	get()
	reused, closed := get()
	require.True(t, reused, "kept alive while serving")
	require.False(t, closed)

	draining.Store(true)
	reused, closed = get()
	require.True(t, reused, "the connection from before")
	require.True(t, closed, "Connection: close")
	reused, closed = get()
	require.False(t, reused, "closed after the answer while draining")
	require.True(t, closed)
}
