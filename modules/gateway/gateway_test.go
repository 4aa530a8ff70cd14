package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/gateway"
	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// customer is a registered user with a paid order, made through the API.
type customer struct {
	user  users.User
	token string
	order orders.Order
}

func newCustomer(t *testing.T, base string) customer {
	t.Helper()
	var c customer
	call(t, base, http.MethodPost, "/api/v1/users", "", map[string]string{
		"email": "ada@example.com", "name": "Ada", "password": "correct horse battery",
	}, http.StatusCreated, &c.user)
	var tok users.Token
	call(t, base, http.MethodPost, "/api/v1/auth/token", "", map[string]string{
		"email": "ada@example.com", "password": "correct horse battery",
	}, http.StatusOK, &tok)
	c.token = tok.AccessToken
	call(t, base, http.MethodPost, "/api/v1/wallet/deposits", c.token, map[string]int64{"amount_cents": 100000}, http.StatusCreated, nil)
	call(t, base, http.MethodPost, "/api/v1/orders", c.token, map[string]any{
		"items": []map[string]any{{"sku": "COFFEE-1KG", "quantity": 1}},
	}, http.StatusCreated, &c.order)
	require.Equal(t, orders.StatusConfirmed, c.order.Status)
	require.NotNil(t, c.order.PaymentID)
	return c
}

// call sends body as JSON, requires status and decodes the answer into out.
func call(t *testing.T, base, method, path, token string, body any, status int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "%s %s answered %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), "%s", raw)
	}
}

// closedURL is a loopback address nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	return url
}

// hungURL is a server that never answers until the test ends.
func hungURL(t *testing.T) string {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-stop }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL
}

// gatewayBefore starts a gateway-only process using the modules at app,
// except payments, which it finds at paymentsURL.
func gatewayBefore(t *testing.T, app *modulestest.Process, paymentsURL string, env map[string]string) string {
	vars := map[string]string{
		"SERVICES": "gateway", "DATABASE_URL": app.DB,
		"USERS_URL": app.URL, "ORDERS_URL": app.URL, "PAYMENTS_URL": paymentsURL,
	}
	for k, v := range env {
		vars[k] = v
	}
	return modulestest.Start(t, vars).URL
}

func TestOrderDetails(t *testing.T) {
	app := modulestest.Start(t, nil)
	c := newCustomer(t, app.URL)
	path := "/api/v1/orders/" + c.order.ID + "/details"

	t.Run("every part", func(t *testing.T) {
		for name, base := range map[string]string{
			"one process": app.URL,
			"gateway":     gatewayBefore(t, app, app.URL, nil),
		} {
			var d gateway.OrderDetails
			call(t, base, http.MethodGet, path, c.token, nil, http.StatusOK, &d)
			require.Equal(t, c.order.ID, d.Order.ID, name)
			require.NotNil(t, d.Customer, name)
			require.Equal(t, c.user.ID, d.Customer.ID, name)
			require.NotNil(t, d.Payment, name)
			require.Equal(t, *c.order.PaymentID, d.Payment.ID, name)
			require.Equal(t, payments.StatusCaptured, d.Payment.Status, name)
			require.Empty(t, d.Failures, name)
		}
	})
	t.Run("payments down", func(t *testing.T) {
		base := gatewayBefore(t, app, closedURL(t), nil)
		var d gateway.OrderDetails
		call(t, base, http.MethodGet, path, c.token, nil, http.StatusOK, &d)
		require.Equal(t, c.order.ID, d.Order.ID)
		require.NotNil(t, d.Customer)
		require.Nil(t, d.Payment)
		require.Equal(t, []gateway.PartFailure{{Part: gateway.PartPayment, Code: problem.ErrUnavailable.Code, Detail: problem.ErrUnavailable.Title}}, d.Failures)
	})
	t.Run("payments hung: its own deadline", func(t *testing.T) {
		base := gatewayBefore(t, app, hungURL(t), map[string]string{"GATEWAY_PART_TIMEOUT": "300ms"})
		start := time.Now()
		var d gateway.OrderDetails
		call(t, base, http.MethodGet, path, c.token, nil, http.StatusOK, &d)
		require.Less(t, time.Since(start), 3*time.Second)
		require.NotNil(t, d.Customer)
		require.Nil(t, d.Payment)
		require.Len(t, d.Failures, 1)
		require.Equal(t, gateway.PartPayment, d.Failures[0].Part)
		require.Equal(t, problem.ErrTimeout.Code, d.Failures[0].Code)
	})
	t.Run("order not found", func(t *testing.T) {
		var d problem.Details
		call(t, app.URL, http.MethodGet, "/api/v1/orders/"+uuid.NewString()+"/details", c.token, nil, http.StatusNotFound, &d)
		require.Equal(t, orders.ErrNotFound.Code, d.Code)
	})
	t.Run("needs a token", func(t *testing.T) {
		var d problem.Details
		call(t, app.URL, http.MethodGet, path, "", nil, http.StatusUnauthorized, &d)
		require.Equal(t, problem.ErrUnauthorized.Code, d.Code)
	})
}

// stripped drops the time of the last check, which a test cannot know.
func stripped(items []gateway.ServiceInfo) map[string]gateway.ServiceInfo {
	out := map[string]gateway.ServiceInfo{}
	for _, s := range items {
		s.CheckedAt = nil
		out[s.Name] = s
	}
	return out
}

// checked reports whether the monitor has checked every remote module.
func checked(list gateway.ServiceList) bool {
	for _, s := range list.Items {
		if s.Where == gateway.WhereRemote && s.CheckedAt == nil {
			return false
		}
	}
	return true
}

// services asks base for the list and returns its status code too.
func services(t *testing.T, base string) (int, gateway.ServiceList) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/services")
	require.NoError(t, err)
	defer resp.Body.Close()
	var list gateway.ServiceList
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	return resp.StatusCode, list
}

func TestServices(t *testing.T) {
	app := modulestest.Start(t, nil)
	var list gateway.ServiceList
	call(t, app.URL, http.MethodGet, "/api/v1/services", "", nil, http.StatusOK, &list)
	assert.Equal(t, "healthy", list.Status)
	// Every module of the list, in its order, as its spec describes it.
	var want []gateway.ServiceInfo
	for _, s := range modules.All() {
		want = append(want, gateway.ServiceInfo{Name: s.Name, Where: gateway.WhereLocal, Health: "healthy",
			DependsOn: append([]string{}, s.DependsOn...), Routes: append([]string{}, s.Routes...)})
	}
	require.Equal(t, want, list.Items)
	require.Contains(t, list.Items, gateway.ServiceInfo{Name: "orders", Where: gateway.WhereLocal, Health: "healthy",
		DependsOn: []string{"users", "payments", "inventory"}, Routes: []string{"/api/v1/products", "/api/v1/orders"}})

	// payments unreachable: unhealthy once the monitor has checked, and
	// the answer is a 503 that names no address and no error.
	down := closedURL(t)
	base := gatewayBefore(t, app, down, nil)
	var code int
	require.Eventually(t, func() bool {
		code, list = services(t, base)
		return code == http.StatusServiceUnavailable && checked(list)
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "unhealthy", list.Status)
	got := stripped(list.Items)
	require.Len(t, got, len(modules.All()), "every module listed, those it has no address for unused")
	assert.Equal(t, gateway.ServiceInfo{Name: "users", Where: gateway.WhereRemote, Health: "healthy", Breaker: "closed",
		DependsOn: []string{}, Routes: []string{"/api/v1/users", "/api/v1/auth", "/.well-known"}}, got["users"])
	assert.Equal(t, "healthy", got["orders"].Health)
	assert.Equal(t, gateway.ServiceInfo{Name: "payments", Where: gateway.WhereRemote, Health: "unhealthy", Breaker: "closed",
		DependsOn: []string{}, Routes: []string{"/api/v1/wallet", "/api/v1/payments"}}, got["payments"])
	assert.Equal(t, gateway.WhereLocal, got["gateway"].Where)
	assert.Equal(t, "healthy", got["gateway"].Health, "its own checks: the others are listed on their own")
	raw, err := json.Marshal(list)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), strings.TrimPrefix(down, "http://"))
	assert.NotContains(t, string(raw), strings.TrimPrefix(app.URL, "http://"))
	assert.NotContains(t, string(raw), "refused")

	// A process without the gateway does not serve the list.
	only := modulestest.Start(t, map[string]string{"SERVICES": "payments", "DATABASE_URL": app.DB})
	var d problem.Details
	call(t, only.URL, http.MethodGet, "/api/v1/services", "", nil, http.StatusNotFound, &d)
}

// The gateway's /health answers from the monitor: a module behind it
// unhealthy makes it 503, yet it stays ready; before the first check ends
// the module is unknown (202).
func TestTheGatewaysHealthFollowsItsMonitor(t *testing.T) {
	app := modulestest.Start(t, nil)
	hung := hungURL(t)
	base := gatewayBefore(t, app, hung, nil)
	code, list := services(t, base)
	require.Equal(t, http.StatusAccepted, code, "payments' first check is still on its way: %+v", list)
	assert.Equal(t, gateway.HealthUnknown, stripped(list.Items)["payments"].Health)

	require.Eventually(t, func() bool {
		code, _ := services(t, base)
		return code == http.StatusServiceUnavailable
	}, 10*time.Second, 20*time.Millisecond, "a module that does not answer in time is unhealthy")
	var rep health.Report
	call(t, base, http.MethodGet, "/health", "", nil, http.StatusServiceUnavailable, &rep)
	assert.Equal(t, health.Unhealthy, rep.Status)
	require.Len(t, rep.Modules, 1)
	assert.Equal(t, "gateway", rep.Modules[0].Name)
	call(t, base, http.MethodGet, "/health/ready", "", nil, http.StatusOK, nil)
}

// However often the list and /health are asked for, each remote module is
// probed only by the monitor, once per HEALTH_MONITOR_INTERVAL.
func TestAnswersNeverProbeTheModules(t *testing.T) {
	app := modulestest.Start(t, nil)
	var probes atomic.Int32
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health/ready" {
			probes.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ready.Close)
	base := gatewayBefore(t, app, ready.URL, map[string]string{"HEALTH_MONITOR_INTERVAL": "1h"})
	require.Eventually(t, func() bool {
		_, list := services(t, base)
		return checked(list)
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, int32(1), probes.Load())
	for range 20 {
		code, list := services(t, base)
		require.Equal(t, http.StatusOK, code, "%+v", list)
		call(t, base, http.MethodGet, "/health", "", nil, http.StatusOK, nil)
	}
	assert.Equal(t, int32(1), probes.Load())
}

func TestRateLimitsInAProcess(t *testing.T) {
	app := modulestest.Start(t, map[string]string{"RATE_LIMIT_AUTH": "2/m burst 2"})
	creds := map[string]string{"email": "nobody@example.com", "password": "not a password"}
	for range 2 {
		call(t, app.URL, http.MethodPost, "/api/v1/auth/token", "", creds, http.StatusUnauthorized, nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, app.URL+"/api/v1/auth/token", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	// A token back every 30s, counted from the first login: less is left
	// when the machine is slow between the two.
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.True(t, retry >= 1 && retry <= 30, "retry in %ds", retry)
	require.Equal(t, "2", resp.Header.Get("RateLimit-Limit"))
	require.Equal(t, "0", resp.Header.Get("RateLimit-Remaining"))
	var d problem.Details
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	require.Equal(t, gateway.ErrRateLimited.Code, d.Code)

	// Other routes have their own, generous, group.
	call(t, app.URL, http.MethodGet, "/api/v1/products", "", nil, http.StatusOK, nil)
}

// Registration is limited like login: strictly, per client IP, whatever
// token comes with it.
func TestRegistrationIsRateLimited(t *testing.T) {
	app := modulestest.Start(t, map[string]string{"RATE_LIMIT_REGISTER": "2/m burst 2"})
	c := newCustomer(t, app.URL) // one registration
	var u users.User
	call(t, app.URL, http.MethodPost, "/api/v1/users", c.token,
		map[string]string{"email": "second@example.com", "name": "Second", "password": "long enough password"}, http.StatusCreated, &u)
	var d problem.Details
	call(t, app.URL, http.MethodPost, "/api/v1/users", c.token,
		map[string]string{"email": "third@example.com", "name": "Third", "password": "long enough password"}, http.StatusTooManyRequests, &d)
	require.Equal(t, gateway.ErrRateLimited.Code, d.Code)
	// Reading the profile is not a registration.
	call(t, app.URL, http.MethodGet, "/api/v1/users/me", c.token, nil, http.StatusOK, nil)
}

// The breaker of a remote module shows in the list: a gateway whose calls
// to payments keep failing reports it open.
func TestServicesShowOpenBreakers(t *testing.T) {
	app := modulestest.Start(t, nil)
	c := newCustomer(t, app.URL)
	base := gatewayBefore(t, app, closedURL(t), map[string]string{"BREAKER_FAILURES": "1", "BREAKER_COOLDOWN": "1m"})
	var d gateway.OrderDetails
	call(t, base, http.MethodGet, "/api/v1/orders/"+c.order.ID+"/details", c.token, nil, http.StatusOK, &d)
	require.Nil(t, d.Payment, "payments is down")

	var list gateway.ServiceList
	call(t, base, http.MethodGet, "/api/v1/services", "", nil, http.StatusServiceUnavailable, &list)
	breakers := map[string]string{}
	for _, s := range list.Items {
		breakers[s.Name] = s.Breaker
	}
	want := map[string]string{"users": "closed", "orders": "closed", "payments": "open", "gateway": ""}
	for _, s := range modules.All() {
		if _, ok := want[s.Name]; !ok {
			want[s.Name] = "" // a module the gateway does not call: no breaker
		}
	}
	require.Equal(t, want, breakers)
}
