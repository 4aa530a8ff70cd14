package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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

func TestIssueAndVerify(t *testing.T) {
	tokens := auth.NewTokens(secret, "mitosis", time.Minute)
	issued, err := tokens.Issue("user-1")
	require.NoError(t, err)
	sub, err := tokens.Verify(issued.Token)
	require.NoError(t, err)
	assert.Equal(t, "user-1", sub)
}

func TestHostileTokensAreRefused(t *testing.T) {
	tokens := auth.NewTokens(secret, "mitosis", time.Minute)
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return s
	}
	now := time.Now()
	valid := jwt.MapClaims{"sub": "u", "iss": "mitosis", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
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
	good := sign(jwt.SigningMethodHS256, secret, valid)
	parts := strings.Split(good, ".")
	for name, token := range map[string]string{
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid),
		"other secret":   sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-000"), valid),
		"HS512":          sign(jwt.SigningMethodHS512, secret, valid),
		"expired":        sign(jwt.SigningMethodHS256, secret, with("exp", now.Add(-time.Hour).Unix())),
		"no expiry":      sign(jwt.SigningMethodHS256, secret, with("exp", nil)),
		"wrong issuer":   sign(jwt.SigningMethodHS256, secret, with("iss", "evil")),
		"no subject":     sign(jwt.SigningMethodHS256, secret, with("sub", nil)),
		"not yet valid":  sign(jwt.SigningMethodHS256, secret, with("nbf", now.Add(time.Hour).Unix())),
		"tampered claim": parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2],
		"garbage":        "not.a.token",
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.Verify(token)
			require.ErrorIs(t, err, problem.ErrUnauthorized)
		})
	}
}

func TestRequiredMiddleware(t *testing.T) {
	tokens := auth.NewTokens(secret, "mitosis", time.Minute)
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.GET("/me", func(c echo.Context) error {
		return c.String(http.StatusOK, auth.Subject(c.Request().Context()))
	}, tokens.Required)
	issued, err := tokens.Issue("user-7")
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
				assert.Equal(t, "user-7", rec.Body.String())
			} else {
				assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
				assert.Contains(t, rec.Body.String(), `"code":"unauthorized"`)
			}
		})
	}
}

func TestSecretInDevelopmentIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Development, DataDir: dir}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := auth.Secret(cfg, log)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(first), 32)
	second, err := auth.Secret(cfg, log)
	require.NoError(t, err)
	assert.Equal(t, first, second, "restarts keep accepting tokens")
	info, err := os.Stat(filepath.Join(dir, "jwt_secret"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestSecretInProductionIsRequired(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Production, DataDir: dir}
	_, err := auth.Secret(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.ErrorContains(t, err, "JWT_SECRET")
	_, statErr := os.Stat(filepath.Join(dir, "jwt_secret"))
	assert.True(t, os.IsNotExist(statErr), "nothing generated in production")

	cfg.Auth.JWTSecret = "short"
	_, err = auth.Secret(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.ErrorContains(t, err, "JWT_SECRET")
}

func TestInternalRoutesNeedServiceCredentials(t *testing.T) {
	tokens := auth.NewTokens(secret, "mitosis", time.Minute)
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Use(tokens.GuardInternal)
	e.POST("/internal/thing", func(c echo.Context) error {
		return c.String(http.StatusOK, auth.Caller(c.Request().Context()))
	})
	e.GET("/me", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, tokens.Required)

	user, err := tokens.Issue("user-1")
	require.NoError(t, err)
	service, err := auth.NewServiceCredentials(tokens, "orders").Authorization()
	require.NoError(t, err)
	foreign, err := auth.NewServiceCredentials(auth.NewTokens([]byte("another-secret-another-secret-000"), "mitosis", time.Minute), "orders").Authorization()
	require.NoError(t, err)

	call := func(method, path, authz string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	rec := call(http.MethodPost, "/internal/thing", service)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "orders", rec.Body.String(), "the callee knows which module called")

	for name, authz := range map[string]string{"none": "", "user token": "Bearer " + user.Token, "other secret": foreign} {
		assert.Equal(t, http.StatusUnauthorized, call(http.MethodPost, "/internal/thing", authz).Code, name)
	}
	assert.Equal(t, http.StatusUnauthorized, call(http.MethodPost, "/internal/unknown", "").Code, "unknown internal paths reveal nothing")
	assert.Equal(t, http.StatusUnauthorized, call(http.MethodGet, "/me", service).Code, "a service token is no user")
	assert.Equal(t, http.StatusNoContent, call(http.MethodGet, "/me", "Bearer "+user.Token).Code)
}

func TestACorruptDevelopmentSecretIsNamed(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte("short\n"), 0o600))
	_, err := auth.Secret(config.Config{Env: config.Development, DataDir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.ErrorContains(t, err, "jwt_secret")
}

func TestProcessesStartingTogetherShareOneSecret(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{Env: config.Development, DataDir: dir}
	secrets := make(chan string, 8)
	for range 8 {
		go func() {
			s, err := auth.Secret(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
