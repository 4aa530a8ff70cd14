package httpserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/transport"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEcho(cfg config.Config) *echo.Echo {
	e := httpserver.New(cfg, quiet())
	e.GET("/ok", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"ok": "yes"}) })
	e.POST("/echo", func(c echo.Context) error {
		var in map[string]string
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, in)
	})
	return e
}

func serve(t *testing.T, e *echo.Echo, r *http.Request) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w.Result()
}

func TestSecurityHeaders(t *testing.T) {
	for _, env := range []string{config.Development, config.Production} {
		t.Run(env, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/ok", nil)
			// HSTS only over TLS: here a TLS proxy on the private network.
			r.RemoteAddr = "10.0.0.1:41000"
			r.Header.Set("X-Forwarded-Proto", "https")
			h := serve(t, newEcho(config.Config{Env: env}), r).Header
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
			assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"))
			if env == config.Production {
				assert.Contains(t, h.Get("Strict-Transport-Security"), "max-age=31536000")
			} else {
				assert.Empty(t, h.Get("Strict-Transport-Security"))
			}
		})
	}
	// Errors carry them too.
	h := serve(t, newEcho(config.Config{}), httptest.NewRequest(http.MethodGet, "/nothing", nil)).Header
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
}

func TestCORS(t *testing.T) {
	listed := config.Config{Env: config.Production, HTTP: config.HTTP{CORSAllowedOrigins: []string{"https://shop.example.com"}}}
	for _, c := range []struct {
		name   string
		cfg    config.Config
		origin string
		allow  bool
	}{
		{"listed origin", listed, "https://shop.example.com", true},
		{"unlisted origin", listed, "https://evil.example.com", false},
		{"listed host, other scheme", listed, "http://shop.example.com", false},
		{"production allows none by default", config.Config{Env: config.Production}, "http://localhost:3000", false},
		{"development allows localhost", config.Config{Env: config.Development}, "http://localhost:3000", true},
		{"development allows 127.0.0.1", config.Config{Env: config.Development}, "http://127.0.0.1:5173", true},
		{"development refuses others", config.Config{Env: config.Development}, "http://evil.example.com", false},
		{"development refuses look-alikes", config.Config{Env: config.Development}, "http://localhost.evil.com", false},
		{"development with a list uses only the list", config.Config{Env: config.Development, HTTP: listed.HTTP}, "http://localhost:3000", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEcho(c.cfg)
			pre := httptest.NewRequest(http.MethodOptions, "/echo", nil)
			pre.Header.Set("Origin", c.origin)
			pre.Header.Set("Access-Control-Request-Method", "POST")
			pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
			resp := serve(t, e, pre)
			get := httptest.NewRequest(http.MethodGet, "/ok", nil)
			get.Header.Set("Origin", c.origin)
			simple := serve(t, e, get)
			if c.allow {
				assert.Equal(t, http.StatusNoContent, resp.StatusCode)
				assert.Equal(t, c.origin, resp.Header.Get("Access-Control-Allow-Origin"))
				assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Idempotency-Key")
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
				assert.Equal(t, c.origin, simple.Header.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
				assert.Empty(t, simple.Header.Get("Access-Control-Allow-Origin"))
			}
			assert.Equal(t, http.StatusOK, simple.StatusCode, "CORS never blocks the request itself")
		})
	}
}

// An answer given in a Pre middleware (a gateway's 429 before routing)
// carries the security and CORS headers, and exposes Retry-After.
func TestPreAnswersCarryHeaders(t *testing.T) {
	const origin = "https://shop.example.com"
	e := newEcho(config.Config{Env: config.Production, HTTP: config.HTTP{CORSAllowedOrigins: []string{origin}}})
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderRetryAfter, "7")
			return echo.NewHTTPError(http.StatusTooManyRequests)
		}
	})
	r := httptest.NewRequest(http.MethodGet, "/ok", nil)
	r.Header.Set("Origin", origin)
	resp := serve(t, e, r)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
}

// startServer runs the server on loopback with short timeouts.
func startServer(t *testing.T, timeouts config.HTTP) string {
	t.Helper()
	s, err := httpserver.Start(newEcho(config.Config{}), "127.0.0.1:0", timeouts, quiet())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, s.Stop(ctx))
	})
	return s.Addr()
}

var short = config.HTTP{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second, IdleTimeout: time.Second}

// A client that sends its headers slowly (slowloris) is cut off at the
// read-header timeout, not kept forever.
func TestSlowHeadersAreCut(t *testing.T) {
	conn, err := net.Dial("tcp", startServer(t, short))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	require.NoError(t, err)
	requireClosedByServer(t, conn)
}

// A body that trickles in ends at the read timeout.
func TestSlowBodyIsCut(t *testing.T) {
	conn, err := net.Dial("tcp", startServer(t, short))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
	require.NoError(t, err)
	requireClosedByServer(t, conn)
}

// requireClosedByServer reads until the server ends the connection, well
// before a generous deadline of our own.
func requireClosedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	got, err := io.ReadAll(conn)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server kept the connection open; read %q", got)
	require.Less(t, time.Since(start), 3*time.Second)
	// Whatever was answered, it was not a success.
	require.False(t, strings.Contains(string(got), " 200 OK"), "%s", got)
}

// Regular clients are unaffected by the timeouts.
func TestPromptClientsAreServed(t *testing.T) {
	addr := startServer(t, short)
	resp, err := http.Post("http://"+addr+"/echo", "application/json", strings.NewReader(`{"a":"b"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestFailedInternalCallsNameTheCaller: a 500 on an internal route is
// logged with the module that called, taken from its service credentials.
func TestFailedInternalCallsNameTheCaller(t *testing.T) {
	var logs strings.Builder
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	key := "caller-test-key-caller-test-key-0123"
	e.Use(auth.NewAPIKeyServiceAuth(key, "payments").GuardInternal)
	e.POST("/internal/payments/boom", func(echo.Context) error { return errors.New("boom") })
	e.POST("/boom", func(echo.Context) error { return errors.New("boom") })

	h := http.Header{}
	require.NoError(t, auth.NewAPIKeyServiceAuth(key, "orders").Apply(h, "", "payments"))
	req := httptest.NewRequest(http.MethodPost, "/internal/payments/boom", nil)
	req.Header = h
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, logs.String(), "caller=orders")
	assert.NotContains(t, rec.Body.String(), "orders", "the caller is logged, not answered")

	logs.Reset()
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/boom", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, logs.String(), "boom")
	assert.NotContains(t, logs.String(), "caller=", "a public route has no calling module")
}

// TestALostDatabaseIs503 checks the mapping; platform/db's
// TestUnavailableTellsAnOutageFromARefusal checks that a real outage gives
// such errors.
func TestALostDatabaseIs503(t *testing.T) {
	e := newEcho(config.Config{})
	e.GET("/down", func(echo.Context) error {
		return fmt.Errorf("load order: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"})
	})
	e.GET("/refused", func(echo.Context) error {
		return fmt.Errorf("load order: %w", &pgconn.PgError{Code: "42P01", Message: `relation "x" does not exist`})
	})
	res := serve(t, e, httptest.NewRequest(http.MethodGet, "/down", nil))
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))
	body, _ := io.ReadAll(res.Body)
	assert.Contains(t, string(body), `"code":"unavailable"`)
	assert.NotContains(t, string(body), "administrator", "no internals")

	res = serve(t, e, httptest.NewRequest(http.MethodGet, "/refused", nil))
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, "a query the database refused is our bug, not an outage")
	assert.Empty(t, res.Header.Get("Retry-After"))
}

// A client's request id is kept when it is short and plain; anything else is
// replaced by a fresh one, also in the request passed on.
func TestRequestIDFromClients(t *testing.T) {
	e := newEcho(config.Config{})
	var seen string
	e.GET("/seen", func(c echo.Context) error {
		seen = c.Request().Header.Get(echo.HeaderXRequestID)
		return c.NoContent(http.StatusNoContent)
	})
	send := func(ids ...string) string {
		r := httptest.NewRequest(http.MethodGet, "/seen", nil)
		for _, id := range ids {
			r.Header.Add(echo.HeaderXRequestID, id)
		}
		got := serve(t, e, r).Header.Get(echo.HeaderXRequestID)
		require.True(t, httpserver.PlainRequestID(got), "%q", got)
		return got
	}
	for _, kept := range []string{"abc", "trace-1:2.3_4", strings.Repeat("a", httpserver.MaxRequestIDLength)} {
		assert.Equal(t, kept, send(kept))
	}
	for name, ids := range map[string][]string{
		"too long":   {strings.Repeat("a", httpserver.MaxRequestIDLength+1)},
		"a space":    {"a b"},
		"markup":     {"<script>"},
		"a quote":    {`a"b`},
		"a slash":    {"a/b"},
		"non-ASCII":  {"idé"},
		"a newline":  {"a\nb"},
		"two values": {"abc", "def"},
	} {
		got := send(ids...)
		assert.NotEqual(t, ids[0], got, name)
		assert.Equal(t, got, seen, "%s: the handler (and any call it makes) sees the fresh id", name)
	}
	fresh := send()
	assert.Len(t, fresh, 32, "one is made when none is sent")
}

// The body limit is exactly 1 MiB, announced or not.
func TestBodyLimitIsOneMiB(t *testing.T) {
	e := newEcho(config.Config{})
	body := func(size int) string {
		const head, tail = `{"a":"`, `"}`
		return head + strings.Repeat("a", size-len(head)-len(tail)) + tail
	}
	for _, announced := range []bool{true, false} {
		for size, status := range map[int]int{1 << 20: http.StatusOK, 1<<20 + 1: http.StatusRequestEntityTooLarge} {
			var r *http.Request
			if announced {
				r = httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(body(size)))
			} else {
				r = httptest.NewRequest(http.MethodPost, "/echo", io.MultiReader(strings.NewReader(body(size))))
				r.ContentLength = -1 // chunked
			}
			r.Header.Set("Content-Type", "application/json")
			resp := serve(t, e, r)
			require.Equal(t, status, resp.StatusCode, "%d bytes, announced %v", size, announced)
			if status != http.StatusOK {
				raw, _ := io.ReadAll(resp.Body)
				assert.Contains(t, string(raw), `"code":"request_too_large"`)
			}
		}
	}
}

// TestACallBetweenModulesGetsNoBrowserHeaders: the answer to another
// module's call (an internal route, no Origin) leaves off the headers only
// a browser reads (framing, CSP, referrer, XSS auditor, Vary: Origin) and
// keeps nosniff; a browser's request to the same route, and any request to
// a public route, gets them all.
func TestACallBetweenModulesGetsNoBrowserHeaders(t *testing.T) {
	e := newEcho(config.Config{Env: config.Development})
	e.POST("/internal/shop/greet", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"hello": "shop"}) })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	browserOnly := []string{"X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "X-Xss-Protection", "Vary"}

	for _, c := range []struct {
		name, method, path, origin string
		browserHeaders             bool
	}{
		{"another module's call", http.MethodPost, "/internal/shop/greet", "", false},
		{"a browser on an internal route", http.MethodPost, "/internal/shop/greet", "http://localhost:3000", true},
		{"a public route", http.MethodGet, "/ok", "", true},
		{"an internal route's 404", http.MethodPost, "/internal/shop/nothing", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "on every answer")
			for _, h := range browserOnly {
				if c.browserHeaders {
					assert.NotEmpty(t, resp.Header.Values(h), h)
				} else {
					assert.Empty(t, resp.Header.Values(h), h)
				}
			}
		})
	}
}
