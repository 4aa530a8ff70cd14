package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/platform/auth"
	"mitosis/platform/pgtest"
)

// rotateEvery is the signing key's maximum age in
// TestKeyRotationAcrossProcesses.
const rotateEvery = 5 * time.Second

// TestKeyRotationAcrossProcesses splits the modules over three processes
// and a gateway, and lets users rotate its signing key by age: a token from
// the users process is accepted by payments, orders and the gateway, which
// verify it through the JWKS over HTTP; after the rotation the old token
// still verifies everywhere, and a token with the new kid is accepted too,
// at once: the others refetch the JWKS on a kid they do not know (their
// cache alone would keep the old set for minutes), and a new key signs only
// once published for longer than they may wait between refetches.
func TestKeyRotationAcrossProcesses(t *testing.T) {
	t.Parallel()
	split := threeProcesses(t, pgtest.NewDatabase(t), "", map[string]string{"SIGNING_KEY_MAX_AGE": rotateEvery.String()})
	gw := behindGateway(t, split)

	creds := map[string]string{"email": "rot@example.com", "password": "rotation password"}
	decode[users.User](t, split.post(t, "/api/v1/users", "", map[string]string{
		"email": creds["email"], "name": "Rot", "password": creds["password"],
	}), http.StatusCreated)
	login := func() (token, kid string) {
		t.Helper()
		tok := decode[users.Token](t, split.post(t, "/api/v1/auth/token", "", creds), http.StatusOK)
		return tok.AccessToken, kidOf(t, tok.AccessToken)
	}
	// Each process verifies on its own: the gateway answers details itself.
	checks := []request{
		{method: http.MethodGet, base: split.users, path: "/api/v1/users/me"},
		{method: http.MethodGet, base: split.payments, path: "/api/v1/wallet"},
		{method: http.MethodGet, base: split.orders, path: "/api/v1/orders"},
		{method: http.MethodGet, base: gw.orders, path: "/api/v1/orders/" + uuid.NewString() + "/details"},
	}
	accepted := func(token string) func() bool {
		return func() bool {
			for _, c := range checks {
				c.token = token
				r := split.do(t, c)
				if r.status == http.StatusUnauthorized {
					return false
				}
				if c.base == gw.orders {
					requireProblem(t, r, http.StatusNotFound, orders.ErrNotFound.Code)
				} else {
					require.Equal(t, http.StatusOK, r.status, "%s %s", c.path, r.body)
				}
			}
			return true
		}
	}

	oldToken, oldKid := login()
	require.True(t, accepted(oldToken)(), "a token from users is accepted by every process")
	forged := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": uuid.NewString()})
	forged.Header["kid"] = oldKid
	none, err := forged.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	require.False(t, accepted(none)(), "the check can fail")

	var newToken, newKid string
	require.Eventually(t, func() bool {
		newToken, newKid = login()
		return newKid != oldKid
	}, 2*(rotateEvery+auth.PublishLead), 250*time.Millisecond, "users rotates its key by age")
	set := decode[auth.JWKS](t, split.do(t, request{method: http.MethodGet, base: split.users, path: auth.JWKSPath}), http.StatusOK)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	require.True(t, slices.Contains(kids, newKid), "the new key is published")
	require.True(t, slices.Contains(kids, oldKid), "the old key stays published")

	require.True(t, accepted(newToken)(), "the new kid is accepted everywhere at once")
	require.True(t, accepted(oldToken)(), "the old key still verifies its tokens")
}

// kidOf returns the kid in a token's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	kid, _ := parsed.Header["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}
