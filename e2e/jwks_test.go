package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
	"mitosis/platform/pgtest"
)

// TestE2EColdVerifierWhileUsersIsDown: a payments process started while
// users is down has no cached key, so it cannot verify a good token. It
// answers 503 with Retry-After (retry), not 401 (log in again), and 200
// once users is back.
func TestE2EColdVerifierWhileUsersIsDown(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	usersAddr, paymentsAddr := freeAddr(t), freeAddr(t)
	env := func(services string, extra map[string]string) map[string]string {
		return with(extra, map[string]string{"SERVICES": services, "DATABASE_URL": dbURL,
			"SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret})
	}
	usersEnv := env("users", map[string]string{"HTTP_ADDR": usersAddr, "PAYMENTS_URL": "http://" + paymentsAddr})
	u := startApp(t, "users", usersEnv)
	u.waitReady(t)
	topo := topology{users: u.url, payments: "http://" + paymentsAddr}

	r := topo.post(t, "/api/v1/users", "", map[string]string{"email": "cold@example.com", "name": "Cold", "password": "correct horse battery"})
	decode[users.User](t, r, http.StatusCreated)
	r = topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": "cold@example.com", "password": "correct horse battery"})
	token := decode[users.Token](t, r, http.StatusOK).AccessToken
	u.stop(t)

	p := startApp(t, "payments", env("payments", map[string]string{"HTTP_ADDR": paymentsAddr, "USERS_URL": u.url}))
	p.waitReady(t)
	r = topo.get(t, "/api/v1/wallet", token)
	requireProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	assert.NotEmpty(t, r.header.Get("Retry-After"))

	startApp(t, "users again", usersEnv).waitReady(t)
	require.Eventually(t, func() bool {
		return topo.get(t, "/api/v1/wallet", token).status == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "the token verifies, and the wallet exists, once users is back")
}
