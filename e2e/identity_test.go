package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/platform/auth"
	"mitosis/platform/pgtest"
)

// signingKeys: users publishes its Ed25519 keys, alice's token names one of
// them, and every process (verifying in-process or through the JWKS)
// refuses tokens forged around them.
func (s *session) signingKeys(t *testing.T) {
	r := s.topo.do(t, request{method: http.MethodGet, base: s.topo.users, path: auth.JWKSPath})
	set := decode[auth.JWKS](t, r, http.StatusOK)
	require.NotEmpty(t, set.Keys)
	var maxAge int
	_, err := fmt.Sscanf(r.header.Get("Cache-Control"), "public, max-age=%d", &maxAge)
	require.NoError(t, err, "JWKS Cache-Control")
	require.Less(t, time.Duration(maxAge)*time.Second, auth.PublishLead, "an HTTP cache must not hide a new key until it signs")
	parts := strings.Split(s.alice.token, ".")
	require.Len(t, parts, 3)
	var header struct{ Alg, Kid string }
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &header))
	require.Equal(t, "EdDSA", header.Alg)
	var published *auth.JWK
	for i, k := range set.Keys {
		require.Equal(t, "OKP", k.Kty)
		require.Empty(t, jwkPrivate(t, k), "no private part is published")
		if k.Kid == header.Kid {
			published = &set.Keys[i]
		}
	}
	require.NotNil(t, published, "the token's kid is in the JWKS")

	var claims jwt.MapClaims
	_, _, err = jwt.NewParser().ParseUnverified(s.alice.token, &claims)
	require.NoError(t, err)
	forge := func(method jwt.SigningMethod, key any, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = header.Kid
		signed, err := tok.SignedString(key)
		require.NoError(t, err)
		return signed
	}
	admin := jwt.MapClaims{}
	for k, v := range claims {
		admin[k] = v
	}
	admin["role"] = "admin"
	pub, err := base64.RawURLEncoding.DecodeString(published.X)
	require.NoError(t, err)
	forged := map[string]string{
		"alg none":                  forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims),
		"HS256 with the public key": forge(jwt.SigningMethodHS256, pub, claims),
		"tampered role":             parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(t, admin)) + "." + parts[2],
	}
	for name, token := range forged {
		for _, path := range []string{"/api/v1/users/me", "/api/v1/wallet", "/api/v1/orders"} {
			t.Run(name+" "+path, func(t *testing.T) {
				requireProblem(t, s.topo.get(t, path, token), http.StatusUnauthorized, "unauthorized")
			})
		}
	}
}

// refreshAndLogout drives the refresh token API over HTTP, on its own login
// so alice's session stays usable for the later steps.
func (s *session) refreshAndLogout(t *testing.T) {
	creds := map[string]string{"email": s.bob.email, "password": s.bob.password}
	login := decode[users.Token](t, s.topo.post(t, "/api/v1/auth/token", "", creds), http.StatusOK)
	r := s.topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
	next := decode[users.Token](t, r, http.StatusOK)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	require.NotEqual(t, login.RefreshToken, next.RefreshToken)
	me := decode[users.User](t, s.topo.get(t, "/api/v1/users/me", next.AccessToken), http.StatusOK)
	require.Equal(t, s.bob.user.ID, me.ID)

	// Reusing the spent token revokes the family, so its successor dies too.
	r = s.topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
	requireProblem(t, r, http.StatusUnauthorized, users.ErrInvalidRefreshToken.Code)
	r = s.topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": next.RefreshToken})
	requireProblem(t, r, http.StatusUnauthorized, users.ErrInvalidRefreshToken.Code)

	other := decode[users.Token](t, s.topo.post(t, "/api/v1/auth/token", "", creds), http.StatusOK)
	r = s.topo.post(t, "/api/v1/auth/logout", "", map[string]string{"refresh_token": other.RefreshToken})
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	r = s.topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": other.RefreshToken})
	requireProblem(t, r, http.StatusUnauthorized, users.ErrInvalidRefreshToken.Code)
	r = s.topo.post(t, "/api/v1/auth/refresh", "", `{"refresh_token": 7}`)
	requireProblem(t, r, http.StatusBadRequest, "bad_request")
}

func jwkPrivate(t *testing.T, k auth.JWK) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(mustJSON(t, k), &m))
	d, _ := m["d"].(string)
	return d
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// TestCLIRotateKey rotates the signing key with `app users rotate-key`:
// the server then signs with the newest key and still publishes the one it
// replaced, whose tokens may still be in use.
func TestCLIRotateKey(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	rotate := func() string {
		t.Helper()
		stdout, stderr, err := runApp(t, env, "users", "rotate-key")
		require.NoError(t, err, stderr)
		kid, ok := strings.CutPrefix(strings.TrimSpace(stdout), "signing with key ")
		require.True(t, ok, stdout)
		return kid
	}
	first, second := rotate(), rotate()
	require.NotEqual(t, first, second)

	_, stderr, err := runApp(t, map[string]string{"DATABASE_URL": env["DATABASE_URL"], "SERVICE_SECRET": serviceSecret,
		"SIGNING_KEY_SECRET": "not-the-secret-the-keys-were-sealed-with"}, "users", "rotate-key")
	require.Error(t, err)
	require.Contains(t, errorLine(t, stderr), "SIGNING_KEY_SECRET")

	p := startApp(t, "app", env)
	p.waitReady(t)
	topo := topology{users: p.url, payments: p.url, orders: p.url}
	set := decode[auth.JWKS](t, topo.do(t, request{method: http.MethodGet, base: p.url, path: auth.JWKSPath}), http.StatusOK)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	require.Equal(t, []string{second, first}, kids)

	decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{
		"email": "rot@example.com", "name": "Rot", "password": "rotating password",
	}), http.StatusCreated)
	// The newest key signs once it has been published for PublishLead.
	require.Eventually(t, func() bool {
		tok := decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{
			"email": "rot@example.com", "password": "rotating password",
		}), http.StatusOK)
		kid := kidOf(t, tok.AccessToken)
		require.Contains(t, []string{first, second}, kid)
		return kid == second
	}, 3*auth.PublishLead, 250*time.Millisecond)
}

// TestAdmin makes the first admin with `app users promote`: the role is in
// the next token, opens the admin lists of users and orders, and nothing
// else; customers are refused those lists and still see only their own.
// It runs on one process and split, where orders learns the role from a
// token it verifies through the JWKS.
func TestAdmin(t *testing.T) {
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		runAdmin(t, oneProcessOn(t, db, nil), db)
	})
	t.Run("three processes", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		runAdmin(t, threeProcesses(t, db, "", nil), db)
	})
}

func runAdmin(t *testing.T, topo topology, db string) {
	env := map[string]string{"DATABASE_URL": db, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	login := func(email string) users.Token {
		t.Helper()
		decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{
			"email": email, "name": "N", "password": "admin test password",
		}), http.StatusCreated)
		return decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{
			"email": email, "password": "admin test password",
		}), http.StatusOK)
	}
	alice, bob := login("alice@example.com"), login("bob@example.com")
	order := decode[orders.Order](t, topo.do(t, request{method: http.MethodPost, path: "/api/v1/orders", token: alice.AccessToken,
		body:   map[string]any{"items": []map[string]any{{"sku": "COFFEE-1KG", "quantity": 1}}},
		header: map[string]string{"Idempotency-Key": "admin-test"}}), http.StatusCreated)

	for _, tok := range []string{alice.AccessToken, bob.AccessToken} {
		requireProblem(t, topo.get(t, "/api/v1/users", tok), http.StatusForbidden, "forbidden")
		requireProblem(t, topo.get(t, "/api/v1/orders?all=true", tok), http.StatusForbidden, "forbidden")
	}
	requireProblem(t, topo.get(t, "/api/v1/orders/"+order.ID, bob.AccessToken), http.StatusNotFound, orders.ErrNotFound.Code)

	stdout, stderr, err := runApp(t, env, "users", "promote", "BOB@example.com")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, "bob@example.com")
	_, stderr, err = runApp(t, env, "users", "promote", "nobody@example.com")
	require.Error(t, err)
	require.Contains(t, errorLine(t, stderr), "nobody@example.com")

	requireProblem(t, topo.get(t, "/api/v1/users", bob.AccessToken), http.StatusForbidden, "forbidden")
	admin := decode[users.Token](t, topo.post(t, "/api/v1/auth/refresh", "", map[string]string{"refresh_token": bob.RefreshToken}), http.StatusOK)

	list := decode[users.UserPage](t, topo.get(t, "/api/v1/users", admin.AccessToken), http.StatusOK)
	roles := map[string]string{}
	for _, u := range list.Items {
		roles[u.Email] = u.Role
	}
	require.Equal(t, map[string]string{"alice@example.com": "customer", "bob@example.com": "admin"}, roles)
	requireProblem(t, topo.get(t, "/api/v1/users?limit=101", admin.AccessToken), http.StatusUnprocessableEntity, "validation_failed", "limit")

	all := decode[orders.OrderPage](t, topo.get(t, "/api/v1/orders?all=true", admin.AccessToken), http.StatusOK)
	require.Len(t, all.Items, 1)
	require.Equal(t, order.ID, all.Items[0].ID)
	own := decode[orders.OrderPage](t, topo.get(t, "/api/v1/orders", admin.AccessToken), http.StatusOK)
	require.Empty(t, own.Items, "without all=true an admin sees their own orders")
	requireProblem(t, topo.get(t, "/api/v1/orders/"+order.ID, admin.AccessToken), http.StatusNotFound, orders.ErrNotFound.Code)
	requireProblem(t, topo.get(t, "/api/v1/orders?all=maybe", admin.AccessToken), http.StatusBadRequest, "bad_request")
	restock(t, topo, alice.AccessToken, admin.AccessToken)
}
