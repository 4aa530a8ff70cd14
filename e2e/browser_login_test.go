package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
)

// The console outside development: nothing shows until an admin logs in
// with email and password on the console's own form. A customer is
// refused with a clear message, an admin (`app users promote`) reads the
// guarded panels, stays logged in while the page renews the token (tokens
// of a few seconds here), and logs out. Users runs in the process itself
// and, in the split, behind the orders process's admin listener, which
// asks users over HTTP.
func TestBrowserConsoleLogin(t *testing.T) {
	prod := map[string]string{"APP_ENV": "production", "TOKEN_TTL": "4s"}
	walk := func(t *testing.T, topo topology, admin, db string) {
		t.Helper()
		for _, email := range []string{"operator@example.com", "customer@example.com"} {
			decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{
				"email": email, "name": "N", "password": "console test password",
			}), http.StatusCreated)
		}
		_, stderr, err := runApp(t, with(prod, map[string]string{"DATABASE_URL": db, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}),
			"users", "promote", "operator@example.com")
		require.NoError(t, err, stderr)
		// Only the console's own page may post a login: JSON, same origin.
		for _, tc := range []struct {
			header map[string]string
			status int
			code   string
		}{
			{map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, http.StatusForbidden, "console_cross_site"},
			{map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "console_cross_site"},
		} {
			req, err := http.NewRequest(http.MethodPost, admin+"/admin/v1/console/login",
				strings.NewReader(`{"email":"operator@example.com","password":"console test password"}`))
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := httpClient.Do(req)
			require.NoError(t, err)
			var d problem.Details
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode, "%v: %+v", tc.header, d)
			require.Equal(t, tc.code, d.Code, "%v", tc.header)
		}
		runBrowser(t, "login", map[string]string{"ADMIN_URL": admin, "ADMIN_EMAIL": "operator@example.com",
			"CUSTOMER_EMAIL": "customer@example.com", "PASSWORD": "console test password"})
	}
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		topo := oneProcessOn(t, db, prod)
		walk(t, topo, topo.processes[0].admin, db)
	})
	t.Run("orders process of three", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		topo := threeProcesses(t, db, "", prod)
		walk(t, topo, topo.processes[2].admin, db)
	})
}
