package ratelimit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"mitosis/modules/gateway"
	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/throttle"
)

// oneKey is a KeySource of a single key.
type oneKey struct{ key auth.SigningKey }

func (k oneKey) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if kid != k.key.ID {
		return nil, auth.ErrUnknownKey
	}
	return k.key.Private.Public().(ed25519.PublicKey), nil
}

// clock is a settable time for the buckets.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	url    string
	issuer *auth.Issuer
	key    auth.SigningKey
	clock  *clock
	lim    *Limiter
}

func setup(t *testing.T, limits map[string]settings.RateLimit) fixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	key := auth.SigningKey{ID: auth.KeyID(pub), Private: priv}
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Hour, time.Now)
	lim, err := New(limits, auth.NewVerifier(oneKey{key}, "mitosis", "mitosis-api", time.Now))
	require.NoError(t, err)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	lim.now = clk.Now
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Pre(lim.Middleware)
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	e.GET("/api/v1/products", ok)
	e.POST("/api/v1/auth/token", ok)
	e.POST("/api/v1/users", ok)
	e.GET("/api/v1/users/me", ok)
	e.GET("/health/live", ok)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return fixture{url: srv.URL, issuer: issuer, key: key, clock: clk, lim: lim}
}

func (f fixture) token(t *testing.T, user string) string {
	t.Helper()
	iss, err := f.issuer.Issue(f.key, user, auth.RoleCustomer)
	require.NoError(t, err)
	return iss.Token
}

func (f fixture) do(t *testing.T, method, path, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.url+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var limits = map[string]settings.RateLimit{
	"default":  {Prefix: "/api/", Limit: "3/m burst 3"},
	"auth":     {Prefix: "/api/v1/auth", Limit: "1/m burst 1"},
	"register": {Prefix: "/api/v1/users", Method: http.MethodPost, Limit: "2/m burst 2"},
}

func TestOverTheLimit(t *testing.T) {
	f := setup(t, limits)
	for i := range 3 {
		resp := f.do(t, http.MethodGet, "/api/v1/products", "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i+1)
		require.Equal(t, "3", resp.Header.Get(throttle.HeaderLimit))
		require.Equal(t, strconv.Itoa(2-i), resp.Header.Get(throttle.HeaderRemaining))
		require.Equal(t, strconv.Itoa(20*(i+1)), resp.Header.Get(throttle.HeaderReset), "a token every 20s")
	}
	resp := f.do(t, http.MethodGet, "/api/v1/products", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, problem.ContentType, resp.Header.Get("Content-Type"))
	var d problem.Details
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	require.Equal(t, gateway.ErrRateLimited.Code, d.Code)
	require.Equal(t, "20", resp.Header.Get("Retry-After"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "the 429 carries the security headers")
	require.Equal(t, "0", resp.Header.Get(throttle.HeaderRemaining))
	require.Equal(t, "60", resp.Header.Get(throttle.HeaderReset))

	f.clock.Add(20 * time.Second)
	require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", "").StatusCode, "one token back after Retry-After")
	require.Equal(t, http.StatusTooManyRequests, f.do(t, http.MethodGet, "/api/v1/products", "").StatusCode)

	resp = f.do(t, http.MethodGet, "/health/live", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "routes outside every group are not limited")
	require.Empty(t, resp.Header.Get(throttle.HeaderLimit))
}

func TestPerUser(t *testing.T) {
	f := setup(t, limits)
	alice, bob := f.token(t, "alice"), f.token(t, "bob")
	for range 3 {
		require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", alice).StatusCode)
	}
	require.Equal(t, http.StatusTooManyRequests, f.do(t, http.MethodGet, "/api/v1/products", alice).StatusCode)
	require.Equal(t, http.StatusTooManyRequests, f.do(t, http.MethodGet, "/api/v1/products", f.token(t, "alice")).StatusCode,
		"a fresh token of the same user shares the bucket")
	require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", bob).StatusCode, "bob has his own bucket")
	require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", "").StatusCode, "anonymous callers go by IP")
	for range 2 {
		require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", "not.a.token").StatusCode)
	}
	require.Equal(t, http.StatusTooManyRequests, f.do(t, http.MethodGet, "/api/v1/products", "not.a.token").StatusCode,
		"an invalid token counts against the IP")
}

func TestAuthIsStricter(t *testing.T) {
	f := setup(t, limits)
	require.Equal(t, http.StatusOK, f.do(t, http.MethodPost, "/api/v1/auth/token", "").StatusCode)
	resp := f.do(t, http.MethodPost, "/api/v1/auth/token", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get(throttle.HeaderLimit))
	require.Equal(t, "60", resp.Header.Get("Retry-After"))
	require.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/v1/products", "").StatusCode, "other groups keep their own buckets")
}

// Attaching a valid token to login attempts does not dodge the auth limit:
// the auth group always counts by client IP.
func TestAuthCountsByIP(t *testing.T) {
	f := setup(t, limits)
	require.Equal(t, http.StatusOK, f.do(t, http.MethodPost, "/api/v1/auth/token", "").StatusCode)
	for _, user := range []string{"alice", "bob"} {
		require.Equal(t, http.StatusTooManyRequests, f.do(t, http.MethodPost, "/api/v1/auth/token", f.token(t, user)).StatusCode,
			"a token of %s shares the IP's bucket", user)
	}
}

// Registration is a credential route: its own strict group, counted by
// client IP whatever token comes with it; reading /api/v1/users stays in
// the general group.
func TestRegistrationIsStrictAndByIP(t *testing.T) {
	f := setup(t, limits)
	alice := f.token(t, "alice")
	require.Equal(t, http.StatusOK, f.do(t, http.MethodPost, "/api/v1/users", "").StatusCode)
	resp := f.do(t, http.MethodPost, "/api/v1/users", alice)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get(throttle.HeaderLimit))
	for _, token := range []string{"", alice, f.token(t, "bob")} {
		resp := f.do(t, http.MethodPost, "/api/v1/users", token)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "a token does not buy another bucket")
		require.Equal(t, "30", resp.Header.Get("Retry-After"))
	}
	resp = f.do(t, http.MethodGet, "/api/v1/users/me", alice)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "3", resp.Header.Get(throttle.HeaderLimit), "reads are in the general group")
	require.Equal(t, http.StatusOK, f.do(t, http.MethodPost, "/api/v1/auth/token", "").StatusCode, "login has a bucket of its own")
}

func TestOff(t *testing.T) {
	f := setup(t, map[string]settings.RateLimit{"default": {Prefix: "/api/", Limit: "off"}})
	for range 10 {
		resp := f.do(t, http.MethodGet, "/api/v1/products", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, resp.Header.Get(throttle.HeaderLimit))
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	f := setup(t, limits)
	f.do(t, http.MethodGet, "/api/v1/products", f.token(t, "alice"))
	f.do(t, http.MethodGet, "/api/v1/products", f.token(t, "bob"))
	g := f.lim.match(http.MethodGet, "/api/v1/products")
	require.Equal(t, 2, g.buckets.Len())
	f.clock.Add(time.Minute) // a full refill at 3/m
	f.do(t, http.MethodGet, "/api/v1/products", "")
	require.Equal(t, 1, g.buckets.Len(), "only the bucket just used is kept")
}

func TestIPExtractor(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.5:1234"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	direct, err := IPExtractor(nil)
	require.NoError(t, err)
	require.Equal(t, "10.0.0.5", direct(req), "without trusted proxies, X-Forwarded-For is ignored")
	trusting, err := IPExtractor([]string{"10.0.0.0/8"})
	require.NoError(t, err)
	require.Equal(t, "203.0.113.7", trusting(req))
	_, err = IPExtractor([]string{"not-an-ip"})
	require.Error(t, err)
}
