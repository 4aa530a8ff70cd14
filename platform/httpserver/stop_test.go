package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
)

// On Stop the listener closes at once; a request in flight finishes; one
// that arrives on a connection kept alive from before gets a 503 with
// Retry-After (problem+json) and the connection is closed after it.
func TestStopFinishesRequestsInFlightAndTurnsLateOnesAway(t *testing.T) {
	e := newEcho(config.Config{})
	inHandler, release := make(chan struct{}), make(chan struct{})
	e.GET("/slow", func(c echo.Context) error {
		close(inHandler)
		<-release
		return c.JSON(http.StatusOK, map[string]string{"slow": "done"})
	})
	s, err := httpserver.Start(e, "127.0.0.1:0", config.HTTP{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}, quiet())
	require.NoError(t, err)

	kept, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer kept.Close()
	keptReader := bufio.NewReader(kept)
	require.Equal(t, http.StatusOK, getOn(t, kept, keptReader).StatusCode)

	slow := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/slow")
		if err != nil {
			t.Errorf("slow request: %v", err)
			close(slow)
			return
		}
		slow <- resp
	}()
	<-inHandler

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- s.Stop(ctx)
	}()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "the listener closes at once")

	late := getOn(t, kept, keptReader)
	assert.Equal(t, http.StatusServiceUnavailable, late.StatusCode)
	assert.Equal(t, "1", late.Header.Get("Retry-After"))
	assert.Equal(t, problem.ContentType, late.Header.Get("Content-Type"))
	assert.True(t, late.Close, "the connection closes after the answer")
	var d problem.Details
	require.NoError(t, json.NewDecoder(late.Body).Decode(&d))
	assert.Equal(t, httpserver.ErrClosing.Code, d.Code)

	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	resp := <-slow
	require.NotNil(t, resp)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the request in flight finished")
	require.NoError(t, <-stopped)
}

// getOn sends GET /ok on conn and reads the answer.
func getOn(t *testing.T, conn net.Conn, r *bufio.Reader) *http.Response {
	t.Helper()
	_, err := io.WriteString(conn, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}
