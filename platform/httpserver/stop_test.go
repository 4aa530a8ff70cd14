package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/logging"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
)

// On Stop the listener closes at once; a request in flight finishes; one
// that arrives on a connection kept alive from before gets a 503 with
// Retry-After (problem+json) and the connection is closed after it. The
// late request goes through the chain every answer does (a request id,
// CORS, the security headers, one access-log line with its code) but no
// handler.
func TestStopFinishesRequestsInFlightAndTurnsLateOnesAway(t *testing.T) {
	logs := &lockedBuffer{}
	log := logging.New(config.Config{Log: config.Log{Format: config.LogJSON, Level: "info"}}, logs)
	o, err := httpserver.NewObserver(log, prometheus.NewRegistry(), topology.Placement{})
	require.NoError(t, err)
	const origin = "https://shop.example"
	e := httpserver.New(config.Config{HTTP: config.HTTP{CORSAllowedOrigins: []string{origin}}}, log, o.Middleware)
	var served atomic.Int64
	e.GET("/ok", func(c echo.Context) error {
		served.Add(1)
		return c.JSON(http.StatusOK, map[string]string{"ok": "yes"})
	})
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
	require.EqualValues(t, 1, served.Load())

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

	late := getOn(t, kept, keptReader, "Origin", origin, "X-Request-Id", "late-1")
	assert.Equal(t, http.StatusServiceUnavailable, late.StatusCode)
	assert.Equal(t, "1", late.Header.Get("Retry-After"))
	assert.Equal(t, problem.ContentType, late.Header.Get("Content-Type"))
	assert.True(t, late.Close, "the connection closes after the answer")
	var d problem.Details
	require.NoError(t, json.NewDecoder(late.Body).Decode(&d))
	assert.Equal(t, httpserver.ErrClosing.Code, d.Code)
	assert.Equal(t, "/ok", d.Instance)
	assert.Equal(t, "late-1", late.Header.Get("X-Request-Id"), "the request id, as every answer has")
	assert.Equal(t, origin, late.Header.Get("Access-Control-Allow-Origin"), "CORS, so a browser reads the 503")
	assert.Equal(t, "nosniff", late.Header.Get("X-Content-Type-Options"))
	assert.EqualValues(t, 1, served.Load(), "no handler ran for the late request")
	var lines []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" && l["request_id"] == "late-1" {
			lines = append(lines, l)
		}
		assert.NotEqual(t, "ERROR", l["level"], "a late request is no failure: %v", l)
	}
	require.Len(t, lines, 1, "one access-log line")
	assert.EqualValues(t, http.StatusServiceUnavailable, lines[0]["status"])
	assert.Equal(t, httpserver.ErrClosing.Code, lines[0]["code"])
	assert.Equal(t, httpserver.RouteUnmatched, lines[0]["route"], "answered before routing")

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

// getOn sends GET /ok on conn, with headers (name, value, ...), and reads
// the answer.
func getOn(t *testing.T, conn net.Conn, r *bufio.Reader, headers ...string) *http.Response {
	t.Helper()
	req := "GET /ok HTTP/1.1\r\nHost: x\r\n"
	for i := 0; i+1 < len(headers); i += 2 {
		req += headers[i] + ": " + headers[i+1] + "\r\n"
	}
	_, err := io.WriteString(conn, req+"\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}
