package e2e

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
)

// tokenPaths are answered by users, payments and orders: in the split
// topology each process verifies the attacks itself.
var tokenPaths = []string{"/api/v1/users/me", "/api/v1/wallet", "/api/v1/orders"}

// tokenAttacks forges access tokens around the victim's: each is wrong in
// one way only, and every process must refuse it with 401.
//
// Tokens that are expired, not yet valid, or addressed to someone else must
// carry a signature users' keys verify, or they would be refused for the
// signature alone. So the test plants a key of its own in users' key table,
// as a retired key that is still published (whose private half users never
// opens), and first proves a token it signs, right in every way, is
// accepted everywhere.
func tokenAttacks(t *testing.T, topo topology, db string, victim account) []hostile {
	t.Helper()
	var claims jwt.MapClaims
	parsed, parts, err := jwt.NewParser().ParseUnverified(victim.token, &claims)
	require.NoError(t, err)
	kid, _ := parsed.Header["kid"].(string)
	require.NotEmpty(t, kid)
	set := decode[auth.JWKS](t, topo.do(t, request{method: http.MethodGet, base: topo.users, path: auth.JWKSPath}), http.StatusOK)
	var published []byte
	for _, k := range set.Keys {
		if k.Kid == kid {
			published, err = base64.RawURLEncoding.DecodeString(k.X)
			require.NoError(t, err)
		}
	}
	require.Len(t, published, ed25519.PublicKeySize, "the victim's kid is published")

	planted := plantKey(t, db)
	now := time.Now()
	with := func(change jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{
			"sub": victim.user.ID, "role": auth.RoleCustomer, "iss": claims["iss"], "aud": claims["aud"],
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		}
		for k, v := range change {
			if c[k] = v; v == nil {
				delete(c, k)
			}
		}
		return c
	}
	sign := func(method jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		signed, err := tok.SignedString(key)
		require.NoError(t, err)
		return signed
	}
	good := sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(nil))
	for _, path := range tokenPaths {
		// users reloads its keys on an unknown kid at once; the others
		// refetch the JWKS at most every few seconds.
		require.Eventually(t, func() bool {
			return topo.do(t, request{method: http.MethodGet, path: path, token: good}).status == http.StatusOK
		}, 15*time.Second, 250*time.Millisecond, "a right token signed by the planted key is accepted at %s", path)
	}

	_, stranger, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	strangerKid := auth.KeyID(stranger.Public().(ed25519.PublicKey))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[len(sig)/2] ^= 0x01
	tampered := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	admin := base64.RawURLEncoding.EncodeToString(mustJSON(t, with(jwt.MapClaims{"role": auth.RoleAdmin})))

	forged := []struct{ name, token string }{
		{"alg none with the victim's kid", sign(jwt.SigningMethodNone, kid, jwt.UnsafeAllowNoneSignatureType, claims)},
		{"HS256 keyed with the Ed25519 public key", sign(jwt.SigningMethodHS256, kid, published, claims)},
		{"HS256 keyed with the public JWK's x", sign(jwt.SigningMethodHS256, kid, []byte(base64.RawURLEncoding.EncodeToString(published)), claims)},
		{"expired", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{
			"iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(),
		}))},
		{"no expiry", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"exp": nil}))},
		{"tampered signature", tampered},
		{"tampered claims", parts[0] + "." + admin + "." + parts[2]},
		{"wrong aud", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"aud": "someone-else"}))},
		{"wrong iss", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"iss": "https://evil.example.com"}))},
		{"unknown kid", sign(jwt.SigningMethodEdDSA, strangerKid, stranger, with(nil))},
		{"no kid", sign(jwt.SigningMethodEdDSA, "", planted.Private, with(nil))},
		{"nbf in the future", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}))},
		{"iat in the future", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"iat": now.Add(time.Hour).Unix()}))},
		{"unknown role", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"role": "root"}))},
		{"no subject", sign(jwt.SigningMethodEdDSA, planted.ID, planted.Private, with(jwt.MapClaims{"sub": nil}))},
	}
	var out []hostile
	for _, f := range forged {
		for _, path := range tokenPaths {
			out = append(out, hostile{
				name: "token " + f.name + " at " + path, status: http.StatusUnauthorized, code: "unauthorized",
				req: request{method: http.MethodGet, path: path, token: f.token},
			})
		}
	}
	return out
}

// plantKey adds an Ed25519 key the test holds to users' published keys, as
// a key retired just now. Its private column is not a sealed key: users
// opens only the active key's.
func plantKey(t *testing.T, db string) auth.SigningKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	kid := auth.KeyID(pub)
	_, err = connect(t, db).Exec(t.Context(),
		`INSERT INTO users.signing_keys (kid, public_key, private_key, created_at, retired_at)
		 VALUES ($1, $2, $3, now() - interval '1 minute', now())`, kid, []byte(pub), []byte("planted by the test, not sealed"))
	require.NoError(t, err)
	return auth.SigningKey{ID: kid, Private: priv}
}
