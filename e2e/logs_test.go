package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
	"mitosis/platform/pgtest"
)

// jwtLike is any JSON Web Token: access tokens and service tokens alike.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// TestE2ELogs runs the whole scenario (registrations with passwords,
// logins, refreshes, service credentials between processes) through a
// gateway before three processes, logging JSON at debug, then reads every
// line every process wrote: each parses; every request has one access
// line with its route, status, request id and module, and on internal
// routes its caller; and no password, token, refresh token or secret of
// the run, nor the database password, appears anywhere.
func TestE2ELogs(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	env := map[string]string{"LOG_FORMAT": "json", "LOG_LEVEL": "debug"}
	sp := startSplit(t, dbURL, "", env, nil)
	topo, g := behindGatewayWith(t, splitTopology(sp, env), env)
	runScenario(t, topo)
	if t.Failed() {
		return
	}

	// A login and refresh of our own, whose refresh tokens we know.
	creds := map[string]string{"email": "alice@example.com", "password": "correct horse battery"}
	login := decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", creds), http.StatusOK)
	next := decode[users.Token](t, topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}), http.StatusOK)
	r := topo.post(t, "/api/v1/auth/logout", "", map[string]string{"refresh_token": next.RefreshToken})
	require.Equal(t, http.StatusNoContent, r.status)

	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	dbPassword, _ := u.User.Password()
	require.NotEmpty(t, dbPassword, "the test server has a superuser password")
	secrets := map[string]string{
		"alice's password": "correct horse battery", "bob's password": "another long password",
		"a refused password": "yet another password", "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret,
		"the database password": dbPassword, "a refresh token": login.RefreshToken, "its successor": next.RefreshToken,
		"an access token": login.AccessToken,
	}

	procs := map[string]*appProcess{"users": sp.users, "payments": sp.payments, "orders": sp.orders, "gateway": g}
	sawCaller := false
	for name, p := range procs {
		out := p.output.String()
		for what, secret := range secrets {
			assert.NotContains(t, out, secret, "%s in the log of %s", what, name)
		}
		assert.Empty(t, jwtLike.FindAllString(out, 3), "a token in the log of %s", name)

		requests := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "%s wrote a line that is not JSON: %s", name, sc.Text())
			require.Contains(t, line, "level")
			if line["msg"] != "request" {
				continue
			}
			requests++
			for _, key := range []string{"method", "route", "status", "duration_ms", "bytes", "request_id"} {
				require.Contains(t, line, key, "%s: %v", name, line)
			}
			route, _ := line["route"].(string)
			assert.NotContains(t, route, "?", "no query in a route")
			if strings.HasPrefix(route, "/api/v1/") || strings.HasPrefix(route, "/internal/") {
				assert.NotEmpty(t, line["module"], "%s: %v", name, line)
			}
			if strings.HasPrefix(route, "/internal/payments/") && line["status"] == 200.0 {
				assert.Contains(t, []any{"orders", "gateway"}, line["caller"], "the calling module: %v", line)
				sawCaller = sawCaller || (route == "/internal/payments/charge" && line["caller"] == "orders")
			}
		}
		require.NoError(t, sc.Err())
		assert.Positive(t, requests, "%s logged its requests", name)
	}
	assert.True(t, sawCaller, "payments logged orders calling it")
}
