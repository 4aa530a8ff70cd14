package users_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/users"
	"mitosis/platform/problem"
	"mitosis/platform/throttle"
)

// consoleLogin posts a console login as the console's page does, with
// extra headers (name, value, ...), and decodes the problem of a refusal.
func consoleLogin(t *testing.T, admin, email, password string, headers ...string) (*http.Response, problem.Details) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, admin+"/admin/v1/console/login", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var d problem.Details
	if res.StatusCode != http.StatusOK {
		require.NoError(t, json.NewDecoder(res.Body).Decode(&d))
	}
	return res, d
}

// The console's admin login is limited per client IP, as the public login
// is at the gateway: past USERS_CONSOLE_LOGIN_LIMIT a guess is answered
// 429 rate_limited with Retry-After, a right password too, and another
// X-Forwarded-For buys no new bucket; a request the login refuses before
// any password is checked (not the page's JSON) does not count. So in the
// process where users runs and in one that calls users over HTTP.
func TestConsoleLoginIsRateLimited(t *testing.T) {
	var svc users.Service
	home := modulestest.Start(t, map[string]string{"SERVICES": "users,payments", "USERS_CONSOLE_LOGIN_LIMIT": "2/m"}, &svc)
	_, err := svc.Register(context.Background(), users.RegisterRequest{Email: "op@example.com", Name: "Op", Password: "the right password"})
	require.NoError(t, err)
	caller := modulestest.Start(t, map[string]string{"SERVICES": "gateway", "DATABASE_URL": home.DB, "USERS_CONSOLE_LOGIN_LIMIT": "2/m",
		"USERS_URL": home.URL, "ORDERS_URL": home.URL, "PAYMENTS_URL": home.URL})

	for name, admin := range map[string]string{"where users runs": home.Admin, "calling users over HTTP": caller.Admin} {
		t.Run(name, func(t *testing.T) {
			form, err := http.Post(admin+"/admin/v1/console/login", "application/x-www-form-urlencoded", strings.NewReader("email=op@example.com"))
			require.NoError(t, err)
			form.Body.Close()
			require.Equal(t, http.StatusUnsupportedMediaType, form.StatusCode)

			for i := range 2 {
				res, d := consoleLogin(t, admin, "op@example.com", "a guess")
				require.Equal(t, http.StatusUnauthorized, res.StatusCode, "guess %d: %+v", i+1, d)
				assert.Equal(t, users.ErrInvalidCredentials.Code, d.Code)
				assert.Equal(t, "2", res.Header.Get(throttle.HeaderLimit))
			}
			for _, tc := range []struct {
				password string
				headers  []string
			}{
				{"a third guess", nil},
				{"the right password", nil},
				{"a guess from elsewhere", []string{"X-Forwarded-For", "203.0.113.9", "X-Real-Ip", "203.0.113.9"}},
			} {
				res, d := consoleLogin(t, admin, "op@example.com", tc.password, tc.headers...)
				require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "%s: %+v", tc.password, d)
				assert.Equal(t, problem.ContentType, res.Header.Get("Content-Type"))
				assert.Equal(t, throttle.ErrRateLimited.Code, d.Code)
				retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
				require.NoError(t, err)
				assert.True(t, retry >= 1 && retry <= 30, "a login back every 30s: retry in %ds", retry)
				assert.Equal(t, "0", res.Header.Get(throttle.HeaderRemaining))
			}
		})
	}
}
