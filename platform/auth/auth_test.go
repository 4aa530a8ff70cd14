package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// staticKeys is a KeySource over a fixed map.
type staticKeys map[string]ed25519.PublicKey

func (k staticKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if key, ok := k[kid]; ok {
		return key, nil
	}
	return nil, auth.ErrUnknownKey
}

func newKey(t *testing.T) auth.SigningKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	return auth.SigningKey{ID: auth.KeyID(pub), Private: priv}
}

func public(k auth.SigningKey) ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

func TestIssueAndVerify(t *testing.T) {
	key := newKey(t)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := auth.NewVerifier(staticKeys{key.ID: public(key)}, "mitosis", "mitosis-api", time.Now)
	issued, err := issuer.Issue(key, "user-1", auth.RoleAdmin)
	require.NoError(t, err)
	claims, err := verifier.Verify(context.Background(), issued.Token)
	require.NoError(t, err)
	assert.Equal(t, auth.Claims{Subject: "user-1", Role: auth.RoleAdmin}, claims)
}

// TestHostileTokensAreRefused sends every kind of forged, stale or
// misaddressed token to a protected route: each gets 401 problem+json.
func TestHostileTokensAreRefused(t *testing.T) {
	key, stranger := newKey(t), newKey(t)
	verifier := auth.NewVerifier(staticKeys{key.ID: public(key)}, "mitosis", "mitosis-api", time.Now)
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, verifier.Required)

	now := time.Now()
	valid := jwt.MapClaims{"sub": "u", "role": "customer", "iss": "mitosis", "aud": "mitosis-api",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for key, val := range valid {
			c[key] = val
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	sign := func(method jwt.SigningMethod, signer any, kid string, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(signer)
		require.NoError(t, err)
		return s
	}
	ed := func(claims jwt.MapClaims) string { return sign(jwt.SigningMethodEdDSA, key.Private, key.ID, claims) }
	good := ed(valid)
	parts := strings.Split(good, ".")
	h := http.Header{}
	require.NoError(t, auth.NewJWTServiceAuth(secret, "orders").Apply(h, "", "users"))
	serviceToken := h.Get("Authorization")

	tokens := map[string]string{
		"alg none":                  sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key.ID, valid),
		"HS256 with the public key": sign(jwt.SigningMethodHS256, []byte(public(key)), key.ID, valid),
		"HS256 with the JWK x":      sign(jwt.SigningMethodHS256, []byte(auth.PublicJWK(key.ID, public(key)).X), key.ID, valid),
		"other key, same kid":       sign(jwt.SigningMethodEdDSA, stranger.Private, key.ID, valid),
		"unknown kid":               sign(jwt.SigningMethodEdDSA, stranger.Private, stranger.ID, valid),
		"no kid":                    sign(jwt.SigningMethodEdDSA, key.Private, "", valid),
		"expired":                   ed(with("exp", now.Add(-time.Hour).Unix())),
		"no expiry":                 ed(with("exp", nil)),
		"not yet valid":             ed(with("nbf", now.Add(time.Hour).Unix())),
		"issued in the future":      ed(with("iat", now.Add(time.Hour).Unix())),
		"wrong issuer":              ed(with("iss", "evil")),
		"no issuer":                 ed(with("iss", nil)),
		"wrong audience":            ed(with("aud", "mitosis-internal")),
		"no audience":               ed(with("aud", nil)),
		"no subject":                ed(with("sub", nil)),
		"unknown role":              ed(with("role", "root")),
		"tampered claim":            parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2],
		"tampered role":             parts[0] + "." + jwtPart(t, with("role", "admin")) + "." + parts[2],
		"service token":             strings.TrimPrefix(serviceToken, "Bearer "),
		"garbage":                   "not.a.token",
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			_, err := verifier.Verify(context.Background(), token)
			require.ErrorIs(t, err, problem.ErrUnauthorized)

			req := httptest.NewRequest(http.MethodGet, "/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), `"code":"unauthorized"`)
		})
	}
	// The table can fail: the untouched token passes.
	_, err := verifier.Verify(context.Background(), good)
	require.NoError(t, err)
	// A small clock skew is tolerated.
	_, err = verifier.Verify(context.Background(), ed(with("nbf", now.Add(10*time.Second).Unix())))
	require.NoError(t, err)
	_, err = verifier.Verify(context.Background(), ed(with("exp", now.Add(-10*time.Second).Unix())))
	require.NoError(t, err)
	_, err = verifier.Verify(context.Background(), ed(with("exp", now.Add(-time.Minute).Unix())))
	require.ErrorIs(t, err, problem.ErrUnauthorized, "but no more than the leeway")
}

func jwtPart(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	raw, err := json.Marshal(claims)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestRequiredMiddleware(t *testing.T) {
	key := newKey(t)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := auth.NewVerifier(staticKeys{key.ID: public(key)}, "mitosis", "mitosis-api", time.Now)
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.GET("/me", func(c echo.Context) error {
		ctx := c.Request().Context()
		return c.String(http.StatusOK, auth.Subject(ctx)+" "+strconv.FormatBool(auth.IsAdmin(ctx)))
	}, verifier.Required)
	issued, err := issuer.Issue(key, "user-7", auth.RoleCustomer)
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		headers []string
		status  int
	}{
		"valid":         {[]string{"Bearer " + issued.Token}, 200},
		"lowercase":     {[]string{"bearer " + issued.Token}, 200},
		"missing":       {nil, 401},
		"basic":         {[]string{"Basic dXNlcjpwdw=="}, 401},
		"repeated":      {[]string{"Bearer " + issued.Token, "Bearer " + issued.Token}, 401},
		"bearer only":   {[]string{"Bearer "}, 401},
		"invalid token": {[]string{"Bearer abc.def.ghi"}, 401},
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/me", nil)
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code)
			if tc.status == 200 {
				assert.Equal(t, "user-7 false", rec.Body.String())
			} else {
				assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
				assert.Contains(t, rec.Body.String(), `"code":"unauthorized"`)
			}
		})
	}
}

// countedKeys is staticKeys counting its lookups: one per signature the
// verifier checks.
type countedKeys struct {
	staticKeys
	lookups atomic.Int32
}

func (k *countedKeys) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	k.lookups.Add(1)
	return k.staticKeys.PublicKey(ctx, kid)
}

// A request's bearer token read twice in one process (the gateway's rate
// limit, then the route's Required) has its signature checked once; a
// token that failed, or another verifier, is checked again.
func TestATokenIsVerifiedOncePerRequest(t *testing.T) {
	key := newKey(t)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	keys := &countedKeys{staticKeys: staticKeys{key.ID: public(key)}}
	verifier := auth.NewVerifier(keys, "mitosis", "mitosis-api", time.Now)
	other := auth.NewVerifier(keys, "mitosis", "mitosis-api", time.Now)
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var firstSubject string
	// As the rate limit does: a verifier's view of the token, ahead of the route.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			firstSubject = ""
			if token, err := auth.Bearer(c); err == nil {
				if claims, err := verifier.VerifyRequest(c, token); err == nil {
					firstSubject = claims.Subject
				}
			}
			return next(c)
		}
	})
	e.GET("/me", func(c echo.Context) error { return c.String(http.StatusOK, auth.Subject(c.Request().Context())) }, verifier.Required)
	e.GET("/other", func(c echo.Context) error { return c.String(http.StatusOK, auth.Subject(c.Request().Context())) }, other.Required)
	issued, err := issuer.Issue(key, "user-9", auth.RoleCustomer)
	require.NoError(t, err)
	forged := issued.Token[:len(issued.Token)-4] + "AAAA"

	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name, path, token string
		status            int
		lookups           int32
	}{
		{"valid: once", "/me", issued.Token, http.StatusOK, 1},
		{"valid again: once more, per request", "/me", issued.Token, http.StatusOK, 1},
		{"forged: refused by both, never remembered", "/me", forged, http.StatusUnauthorized, 2},
		{"another verifier checks for itself", "/other", issued.Token, http.StatusOK, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := keys.lookups.Load()
			rec := get(tc.path, tc.token)
			require.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.lookups, keys.lookups.Load()-before, "signatures checked")
			if tc.status == http.StatusOK {
				assert.Equal(t, "user-9", rec.Body.String())
				assert.Equal(t, "user-9", firstSubject)
			} else {
				assert.Empty(t, firstSubject)
			}
		})
	}
}

func TestSecretInDevelopmentIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Development, DataDir: dir}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := auth.Secret(cfg, log, "SERVICE_SECRET", "", "service_secret")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(first), 32)
	second, err := auth.Secret(cfg, log, "SERVICE_SECRET", "", "service_secret")
	require.NoError(t, err)
	assert.Equal(t, first, second, "restarts keep accepting tokens")
	info, err := os.Stat(filepath.Join(dir, "service_secret"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestSecretInProductionIsRequired(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Production, DataDir: dir}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := auth.Secret(cfg, log, "SIGNING_KEY_SECRET", "", "signing_key_secret")
	require.ErrorContains(t, err, "SIGNING_KEY_SECRET")
	_, statErr := os.Stat(filepath.Join(dir, "signing_key_secret"))
	assert.True(t, os.IsNotExist(statErr), "nothing generated in production")
	_, err = auth.Secret(cfg, log, "SIGNING_KEY_SECRET", "short", "signing_key_secret")
	require.ErrorContains(t, err, "SIGNING_KEY_SECRET")
}

// internalServer mounts /internal/payments/thing behind guard, answering
// with the caller, and a user route.
func internalServer(t testing.TB, guard *auth.ServiceAuth, verifier *auth.Verifier) *echo.Echo {
	t.Helper()
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Use(guard.GuardInternal)
	e.POST("/internal/payments/thing", func(c echo.Context) error {
		return c.String(http.StatusOK, auth.Caller(c.Request().Context()))
	})
	if verifier != nil {
		e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, verifier.Required)
	}
	return e
}

func call(e *echo.Echo, method, path string, h http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func applied(t *testing.T, s *auth.ServiceAuth, callee string) http.Header {
	t.Helper()
	h := http.Header{}
	require.NoError(t, s.Apply(h, "", callee))
	return h
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// TestServiceJWT: the callee accepts a token its caller signed for it, knows
// who called, and refuses tokens for another module, from another secret,
// expired, unsigned, without an issuer, or made for users.
func TestServiceJWT(t *testing.T) {
	key := newKey(t)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := auth.NewVerifier(staticKeys{key.ID: public(key)}, "mitosis", "mitosis-api", time.Now)
	orders := auth.NewJWTServiceAuth(secret, "orders")
	e := internalServer(t, auth.NewJWTServiceAuth(secret, "payments"), verifier)

	rec := call(e, http.MethodPost, "/internal/payments/thing", applied(t, orders, "payments"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "orders", rec.Body.String(), "the callee knows which module called")

	now := time.Now()
	hs := func(claims jwt.MapClaims, key any, method jwt.SigningMethod) http.Header {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return bearerHeader(s)
	}
	valid := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "orders", "sub": "orders", "aud": "payments", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		edit(c)
		return c
	}
	user, err := issuer.Issue(key, "user-1", auth.RoleAdmin)
	require.NoError(t, err)
	for name, h := range map[string]http.Header{
		"none":               nil,
		"for another module": applied(t, orders, "users"),
		"other secret":       applied(t, auth.NewJWTServiceAuth([]byte("another-secret-another-secret-000"), "orders"), "payments"),
		"expired":            hs(valid(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), secret, jwt.SigningMethodHS256),
		"no issuer":          hs(valid(func(c jwt.MapClaims) { delete(c, "iss") }), secret, jwt.SigningMethodHS256),
		"no audience":        hs(valid(func(c jwt.MapClaims) { delete(c, "aud") }), secret, jwt.SigningMethodHS256),
		"no issued-at":       hs(valid(func(c jwt.MapClaims) { delete(c, "iat") }), secret, jwt.SigningMethodHS256),
		"long-lived":         hs(valid(func(c jwt.MapClaims) { c["exp"] = now.Add(365 * 24 * time.Hour).Unix() }), secret, jwt.SigningMethodHS256),
		"alg none":           hs(valid(func(jwt.MapClaims) {}), jwt.UnsafeAllowNoneSignatureType, jwt.SigningMethodNone),
		"HS512":              hs(valid(func(jwt.MapClaims) {}), secret, jwt.SigningMethodHS512),
		"user token":         bearerHeader(user.Token),
		"api key":            applied(t, auth.NewAPIKeyServiceAuth(string(secret), "orders"), "payments"),
	} {
		rec := call(e, http.MethodPost, "/internal/payments/thing", h)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"), name)
	}
	assert.Equal(t, http.StatusUnauthorized, call(e, http.MethodPost, "/internal/unknown", nil).Code, "unknown internal paths reveal nothing")
	assert.Equal(t, http.StatusUnauthorized, call(e, http.MethodPost, "/internal/", applied(t, orders, "")).Code)
	assert.Equal(t, http.StatusUnauthorized, call(e, http.MethodGet, "/me", applied(t, orders, "payments")).Code, "a service token is no user")
	assert.Equal(t, http.StatusNoContent, call(e, http.MethodGet, "/me", bearerHeader(user.Token)).Code)
}

// TestServiceAPIKey: the right key and a caller name pass; anything else,
// including a key of another length, is refused.
func TestServiceAPIKey(t *testing.T) {
	const key = "api-key-api-key-api-key-api-key-0123"
	e := internalServer(t, auth.NewAPIKeyServiceAuth(key, "payments"), nil)
	rec := call(e, http.MethodPost, "/internal/payments/thing", applied(t, auth.NewAPIKeyServiceAuth(key, "orders"), "payments"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "orders", rec.Body.String())

	for name, h := range map[string]http.Header{
		"none":          nil,
		"wrong key":     applied(t, auth.NewAPIKeyServiceAuth(key[:len(key)-1]+"X", "orders"), "payments"),
		"short key":     applied(t, auth.NewAPIKeyServiceAuth("a", "orders"), "payments"),
		"no caller":     {"Authorization": {"ApiKey " + key}},
		"bearer scheme": {"Authorization": {"Bearer " + key}, auth.CallerHeader: {"orders"}},
		"jwt":           applied(t, auth.NewJWTServiceAuth([]byte(key), "orders"), "payments"),
	} {
		assert.Equal(t, http.StatusUnauthorized, call(e, http.MethodPost, "/internal/payments/thing", h).Code, name)
	}
}

// TestServiceNone lets calls through, naming the caller it was told.
func TestServiceNone(t *testing.T) {
	e := internalServer(t, auth.NewNoServiceAuth("payments"), nil)
	rec := call(e, http.MethodPost, "/internal/payments/thing", applied(t, auth.NewNoServiceAuth("orders"), "payments"))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "orders", rec.Body.String())
}

func TestACorruptDevelopmentSecretIsNamed(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "service_secret"), []byte("short\n"), 0o600))
	_, err := auth.Secret(config.Config{Env: config.Development, DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)), "SERVICE_SECRET", "", "service_secret")
	require.ErrorContains(t, err, "service_secret")
}

func TestProcessesStartingTogetherShareOneSecret(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Development, DataDir: dir}
	secrets := make(chan string, 8)
	for range 8 {
		go func() {
			s, err := auth.Secret(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "SERVICE_SECRET", "", "service_secret")
			if err != nil {
				secrets <- "error: " + err.Error()
				return
			}
			secrets <- string(s)
		}()
	}
	first := <-secrets
	for range 7 {
		require.Equal(t, first, <-secrets)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}
