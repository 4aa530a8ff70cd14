package proxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/gateway"
	"mitosis/modules/gateway/internal/proxy"
	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// serviceKey is the SERVICE_API_KEY of the processes in these tests.
const serviceKey = "0123456789abcdef0123456789abcdef"

// startGateway runs a gateway-only process whose users module lives at
// usersURL, and returns its base URL.
func startGateway(t *testing.T, usersURL string, timeout time.Duration) string {
	t.Helper()
	return startGatewayWith(t, config.Config{}, usersURL, timeout)
}

// startGatewayWith is startGateway whose server has the headers of srvCfg.
func startGatewayWith(t *testing.T, srvCfg config.Config, usersURL string, timeout time.Duration) string {
	t.Helper()
	return startTracedGateway(t, srvCfg, usersURL, timeout, nil)
}

// startTracedGateway is startGatewayWith tracing with tracing (nil: ids
// only), served through the traced handler as a process serves it.
func startTracedGateway(t *testing.T, srvCfg config.Config, usersURL string, timeout time.Duration, tracing *telemetry.Tracing) string {
	t.Helper()
	specs := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users", "/api/v1/auth"}},
		{Name: "gateway", DependsOn: []string{"users"}, Stateless: true, Proxies: true},
	}
	cfg := config.Config{Services: []string{"gateway"}, Modules: map[string]config.Module{"users": {URL: usersURL}}}
	place, err := topology.Plan(specs, cfg)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := httpserver.New(srvCfg, log)
	e.Pre(proxy.HideInternal(place, auth.NewAPIKeyServiceAuth(serviceKey, "gateway").GuardInternal))
	require.NoError(t, proxy.Mount(e, place, timeout, config.SectionOf[settings.Settings](srvCfg, "gateway").TrustedProxies, tracing, log))
	srv := httptest.NewServer(httpserver.Traced(e, tracing, place))
	t.Cleanup(srv.Close)
	return srv.URL
}

// seen is what the module behind the gateway received.
type seen struct {
	Method, Path, Query, Body string
	Header                    http.Header
}

func TestProxyForwards(t *testing.T) {
	got := make(chan seen, 1)
	module := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, string(body), r.Header.Clone()}
		w.Header().Set(echo.HeaderXRequestID, r.Header.Get(echo.HeaderXRequestID))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(module.Close)
	base := startGateway(t, module.URL, 5*time.Second)

	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/users/me/things?limit=2", strings.NewReader(`{"a":1}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(echo.HeaderXRequestID, "req-123")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "must not pass")
	req.Host = "api.example.com"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.JSONEq(t, `{"ok":true}`, string(body))
	require.Equal(t, []string{"req-123"}, resp.Header.Values(echo.HeaderXRequestID), "one id, the caller's")
	s := <-got
	assert.Equal(t, http.MethodPost, s.Method)
	assert.Equal(t, "/api/v1/users/me/things", s.Path)
	assert.Equal(t, "limit=2", s.Query)
	assert.Equal(t, `{"a":1}`, s.Body)
	assert.Equal(t, "req-123", s.Header.Get(echo.HeaderXRequestID))
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", s.Header.Get("Traceparent"))
	assert.Equal(t, "127.0.0.1", s.Header.Get("X-Forwarded-For"))
	assert.Equal(t, "http", s.Header.Get("X-Forwarded-Proto"))
	assert.Equal(t, "api.example.com", s.Header.Get("X-Forwarded-Host"))
	assert.Empty(t, s.Header.Get("X-Hop"), "hop-by-hop headers are dropped")

	// Without an id from the client, the gateway makes one and passes it on.
	resp, err = http.Get(base + "/api/v1/auth")
	require.NoError(t, err)
	resp.Body.Close()
	s = <-got
	require.NotEmpty(t, s.Header.Get(echo.HeaderXRequestID))
	require.Equal(t, s.Header.Get(echo.HeaderXRequestID), resp.Header.Get(echo.HeaderXRequestID))
}

// A module process sends its own CORS and security headers; behind the
// gateway the client must see each once, or browsers refuse the answer.
func TestProxySendsEdgeHeadersOnce(t *testing.T) {
	const origin = "https://shop.example.com"
	cfg := config.Config{Env: config.Production, HTTP: config.HTTP{CORSAllowedOrigins: []string{origin}}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	me := httpserver.New(cfg, log)
	me.GET("/api/v1/users/me", func(c echo.Context) error {
		c.Response().Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		return c.JSON(http.StatusOK, map[string]bool{"ok": true})
	})
	module := httptest.NewServer(me)
	t.Cleanup(module.Close)
	base := startGatewayWith(t, cfg, module.URL, 5*time.Second)

	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/users/me", nil)
	require.NoError(t, err)
	req.Header.Set(echo.HeaderOrigin, origin)
	req.Header.Set(echo.HeaderXForwardedProto, "https") // HSTS only behind TLS
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{origin}, resp.Header.Values(echo.HeaderAccessControlAllowOrigin))
	for _, h := range []string{
		echo.HeaderAccessControlExposeHeaders,
		echo.HeaderXFrameOptions, echo.HeaderContentSecurityPolicy, echo.HeaderXContentTypeOptions,
		echo.HeaderXXSSProtection, echo.HeaderReferrerPolicy, echo.HeaderStrictTransportSecurity,
	} {
		assert.Len(t, resp.Header.Values(h), 1, h)
	}
	var vary []string
	for _, v := range resp.Header.Values(echo.HeaderVary) {
		for f := range strings.SplitSeq(v, ",") {
			vary = append(vary, strings.TrimSpace(f))
		}
	}
	assert.ElementsMatch(t, []string{echo.HeaderOrigin, echo.HeaderAcceptEncoding}, vary, "Origin once, the module's own Vary kept")
}

// The chain a trusted load balancer sends is kept and the peer appended;
// anyone else's X-Forwarded-* are replaced.
func TestProxyForwardedHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	module := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	t.Cleanup(module.Close)
	for _, tc := range []struct {
		name             string
		trusted          []string
		xff, proto, host string
	}{
		{"trusted peer", []string{"127.0.0.0/8"}, "203.0.113.7, 10.0.0.2, 127.0.0.1", "https", "shop.example.com"},
		{"untrusted peer", []string{"10.0.0.0/8"}, "127.0.0.1", "http", "api.internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.WithSection(config.Config{}, "gateway", settings.Settings{TrustedProxies: tc.trusted})
			base := startGatewayWith(t, cfg, module.URL, 5*time.Second)
			req, err := http.NewRequest(http.MethodGet, base+"/api/v1/users/me", nil)
			require.NoError(t, err)
			req.Host = "api.internal"
			req.Header.Set("X-Forwarded-For", "203.0.113.7, 10.0.0.2")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "shop.example.com")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			h := <-got
			assert.Equal(t, tc.xff, strings.Join(h.Values("X-Forwarded-For"), ", "))
			assert.Equal(t, tc.proto, h.Get("X-Forwarded-Proto"))
			assert.Equal(t, tc.host, h.Get("X-Forwarded-Host"))
		})
	}
}

func TestProxyStreamsBodies(t *testing.T) {
	release := make(chan struct{})
	module := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	}))
	t.Cleanup(module.Close)
	base := startGateway(t, module.URL, 5*time.Second)

	resp, err := http.Get(base + "/api/v1/users/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 6)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	require.Equal(t, "first\n", string(buf), "the first part arrives before the module finishes")
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "second\n", string(rest))
}

func TestProxyModuleDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-stop
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(stop) })

	for _, tc := range []struct {
		name, url string
		status    int
		code      string
	}{
		{"closed port", closedURL, http.StatusServiceUnavailable, gateway.ErrModuleUnavailable.Code},
		{"hung module", hung.URL, http.StatusBadGateway, gateway.ErrBadGateway.Code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startGateway(t, tc.url, 300*time.Millisecond)
			start := time.Now()
			resp, err := http.Post(base+"/api/v1/users", "application/json", strings.NewReader(`{}`))
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Less(t, time.Since(start), 3*time.Second, "a down module never hangs the gateway")
			d := decodeProblem(t, resp, tc.status, tc.code)
			require.Contains(t, d.Detail, "users")
			require.Equal(t, "/api/v1/users", d.Instance)
		})
	}
}

func TestInternalRoutesAreNotReachable(t *testing.T) {
	module := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the module was called for %s", r.URL.Path)
	}))
	t.Cleanup(module.Close)
	base := startGateway(t, module.URL, time.Second)
	for _, path := range []string{"/internal/users/get", "/internal/gateway/x", "/internal/"} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		decodeProblem(t, resp, http.StatusNotFound, problem.ErrNotFound.Code)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "the 404 carries the security headers")
		resp.Body.Close()
	}
}

// Where the gateway shares the process with a module, that module's internal
// routes are hidden from callers without service credentials, and served to
// callers with them.
func TestLocalInternalRoutesNeedCredentials(t *testing.T) {
	specs := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users"}},
		{Name: "gateway", DependsOn: []string{"users"}, Stateless: true},
	}
	place, err := topology.Plan(specs, config.Config{Services: []string{"gateway", "users"}})
	require.NoError(t, err)
	require.True(t, place.IsLocal("users"))
	services := auth.NewAPIKeyServiceAuth(serviceKey, "users,gateway")
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Pre(proxy.HideInternal(place, services.GuardInternal))
	e.Use(services.GuardInternal)
	e.POST("/internal/users/get", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"caller": auth.Caller(c.Request().Context())})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, path, authz string
		status            int
	}{
		{"no credentials", "/internal/users/get", "", http.StatusNotFound},
		{"a user's bearer token", "/internal/users/get", "Bearer x.y.z", http.StatusNotFound},
		{"a wrong key", "/internal/users/get", "ApiKey " + strings.Repeat("x", 32), http.StatusNotFound},
		{"a missing route without credentials", "/internal/users/nothing", "", http.StatusNotFound},
		{"service credentials", "/internal/users/get", "ApiKey " + serviceKey, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(`{}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
				req.Header.Set(auth.CallerHeader, "orders")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			if tc.status == http.StatusNotFound {
				decodeProblem(t, resp, http.StatusNotFound, problem.ErrNotFound.Code)
				return
			}
			require.Equal(t, tc.status, resp.StatusCode)
			var got map[string]string
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			require.Equal(t, "orders", got["caller"])
		})
	}
}

func decodeProblem(t *testing.T, resp *http.Response, status int, code string) problem.Details {
	t.Helper()
	var d problem.Details
	require.Equal(t, status, resp.StatusCode)
	require.Equal(t, problem.ContentType, resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	require.Equal(t, code, d.Code)
	require.Equal(t, status, d.Status)
	return d
}
