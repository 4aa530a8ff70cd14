package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/gateway"
	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
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

func TestServices(t *testing.T) {
	app := modulestest.Start(t, nil)
	var list gateway.ServiceList
	call(t, app.URL, http.MethodGet, "/api/v1/services", "", nil, http.StatusOK, &list)
	require.Equal(t, []gateway.ServiceInfo{
		{Name: "users", Where: gateway.WhereLocal, Health: "up", DependsOn: []string{}, Routes: []string{"/api/v1/users", "/api/v1/auth", "/.well-known"}},
		{Name: "payments", Where: gateway.WhereLocal, Health: "up", DependsOn: []string{}, Routes: []string{"/api/v1/wallet", "/api/v1/payments"}},
		{Name: "orders", Where: gateway.WhereLocal, Health: "up", DependsOn: []string{"users", "payments"}, Routes: []string{"/api/v1/products", "/api/v1/orders"}},
		{Name: "gateway", Where: gateway.WhereLocal, Health: "up", DependsOn: []string{"users", "orders", "payments"}, Routes: []string{"/api/v1/services", "/api/v1/orders/:id/details"}},
	}, list.Items)

	down := closedURL(t)
	base := gatewayBefore(t, app, down, nil)
	call(t, base, http.MethodGet, "/api/v1/services", "", nil, http.StatusOK, &list)
	got := map[string]gateway.ServiceInfo{}
	for _, s := range list.Items {
		got[s.Name] = s
	}
	require.Len(t, got, 4)
	require.Equal(t, gateway.ServiceInfo{Name: "users", Where: gateway.WhereRemote, URL: app.URL, Health: "up", Breaker: "closed",
		DependsOn: []string{}, Routes: []string{"/api/v1/users", "/api/v1/auth", "/.well-known"}}, got["users"])
	require.Equal(t, gateway.WhereRemote, got["orders"].Where)
	require.Equal(t, "up", got["orders"].Health)
	require.Equal(t, gateway.ServiceInfo{Name: "payments", Where: gateway.WhereRemote, URL: down, Health: "down", Breaker: "closed",
		DependsOn: []string{}, Routes: []string{"/api/v1/wallet", "/api/v1/payments"}}, got["payments"])
	require.Equal(t, gateway.WhereLocal, got["gateway"].Where)

	// A process without the gateway does not serve the list.
	only := modulestest.Start(t, map[string]string{"SERVICES": "payments", "DATABASE_URL": app.DB})
	var d problem.Details
	call(t, only.URL, http.MethodGet, "/api/v1/services", "", nil, http.StatusNotFound, &d)
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
	require.Equal(t, "30", resp.Header.Get("Retry-After"))
	require.Equal(t, "2", resp.Header.Get("RateLimit-Limit"))
	require.Equal(t, "0", resp.Header.Get("RateLimit-Remaining"))
	var d problem.Details
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	require.Equal(t, gateway.ErrRateLimited.Code, d.Code)

	// Other routes have their own, generous, group.
	call(t, app.URL, http.MethodGet, "/api/v1/products", "", nil, http.StatusOK, nil)
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
	call(t, base, http.MethodGet, "/api/v1/services", "", nil, http.StatusOK, &list)
	breakers := map[string]string{}
	for _, s := range list.Items {
		breakers[s.Name] = s.Breaker
	}
	require.Equal(t, map[string]string{"users": "closed", "orders": "closed", "payments": "open", "gateway": ""}, breakers)
}
