package transport_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"mitosis/platform/config"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// reset is a scripted answer: close the connection without a response.
const reset = -1

// stall is a scripted answer: 200 OK after stallFor, longer than the
// deadlines the tests give.
const (
	stall    = -2
	stallFor = 300 * time.Millisecond
)

// testCalls is a policy for tests: short pauses, and a breaker that only
// the breaker tests get close to tripping.
func testCalls() config.Calls {
	return config.Calls{
		Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond, MaxConcurrency: 64,
		BreakerFailures: 100, BreakerCooldown: time.Minute,
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newClient(url string, calls config.Calls) *transport.Client {
	return transport.NewFactory(config.Config{Calls: calls}, nil, quiet()).New("shop", url, errSoldOut)
}

// scripted is a remote module on loopback whose answers a test dictates: the
// n-th request gets the n-th status of the script, later ones the last. It
// counts the requests that reach it.
type scripted struct {
	URL    string
	script atomic.Pointer[[]int]
	hits   atomic.Int64
}

func newScripted(t *testing.T, statuses ...int) *scripted {
	t.Helper()
	s := &scripted{}
	s.play(statuses...)
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// play replaces the script and restarts it.
func (s *scripted) play(statuses ...int) {
	s.script.Store(&statuses)
	s.hits.Store(0)
}

func (s *scripted) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health/live" {
		w.WriteHeader(http.StatusOK)
		return
	}
	n := int(s.hits.Add(1))
	script := *s.script.Load()
	status := script[min(n, len(script))-1]
	switch {
	case status == stall:
		select {
		case <-time.After(stallFor):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoOut{Greeting: "hello"})
	case status == reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	case status == http.StatusBadGateway:
		// A proxy's answer, not one of ours.
		http.Error(w, "bad gateway", status)
	case status >= 400:
		code := problem.ErrUnavailable.Code
		if status == http.StatusConflict {
			code = errSoldOut.Code
		}
		w.Header().Set("Content-Type", problem.ContentType)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(problem.Details{Status: status, Code: code, Title: http.StatusText(status)})
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoOut{Greeting: "hello"})
	}
}

func (s *scripted) count() int { return int(s.hits.Load()) }
