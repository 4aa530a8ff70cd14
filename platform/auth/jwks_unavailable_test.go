package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
)

// TestRemoteKeysUnreachableIsUnavailableNotUnauthorized: a verifier with no
// cached key whose users is down or failing cannot tell a good token from a
// bad one, so it answers 503 with Retry-After (retry shortly), never 401
// (log in again). Once users answers, the same token passes, and a kid that
// the fetched set truly lacks is 401.
func TestRemoteKeysUnreachableIsUnavailableNotUnauthorized(t *testing.T) {
	key, bogus := newKey(t), newKey(t)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	token := func(k auth.SigningKey) string {
		issued, err := issuer.Issue(k, "user-1", auth.RoleCustomer)
		require.NoError(t, err)
		return issued.Token
	}

	// users down: nothing listens on the port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	srv := &jwksServer{}
	srv.publish(key)
	srv.fail = true
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hanging.Close)

	cases := map[string]string{
		"connection refused": "http://" + addr + auth.JWKSPath,
		"answers 500":        failing.URL + auth.JWKSPath,
		"times out":          hanging.URL + auth.JWKSPath,
	}
	for name, url := range cases {
		t.Run(name, func(t *testing.T) {
			hc := &http.Client{Timeout: 200 * time.Millisecond}
			remote := auth.NewRemoteKeys(url, hc, time.Hour, 50*time.Millisecond)
			verifier := auth.NewVerifier(remote, "mitosis", "mitosis-api", time.Now)
			for range 3 { // the first try fails, and so do throttled ones after it
				_, err := verifier.Verify(context.Background(), token(key))
				require.ErrorIs(t, err, problem.ErrUnavailable)
				assert.NotErrorIs(t, err, problem.ErrUnauthorized)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "users' timeout is not the request's")
			}
			_, err := remote.PublicKey(context.Background(), key.ID)
			require.ErrorIs(t, err, auth.ErrKeysUnavailable)
			assert.NotErrorIs(t, err, auth.ErrUnknownKey)
		})
	}

	t.Run("over HTTP, then users comes back", func(t *testing.T) {
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		remote := auth.NewRemoteKeys(hs.URL+auth.JWKSPath, hs.Client(), time.Hour, 50*time.Millisecond)
		verifier := auth.NewVerifier(remote, "mitosis", "mitosis-api", time.Now)
		e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		e.GET("/me", func(c echo.Context) error { return c.String(http.StatusOK, auth.Subject(c.Request().Context())) }, verifier.Required)
		get := func(tok string) *http.Response {
			req := httptest.NewRequest(http.MethodGet, "/me", nil)
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec.Result()
		}

		resp := get(token(key))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.Equal(t, problem.ContentType, resp.Header.Get(echo.HeaderContentType))
		var d problem.Details
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
		assert.Equal(t, problem.ErrUnavailable.Code, d.Code)
		assert.NotContains(t, d.Detail, "127.0.0.1", "the cause stays internal")

		srv.mu.Lock()
		srv.fail = false
		srv.mu.Unlock()
		require.Eventually(t, func() bool { return get(token(key)).StatusCode == http.StatusOK },
			5*time.Second, 20*time.Millisecond, "the token passes once users answers")
		require.Eventually(t, func() bool { return get(token(bogus)).StatusCode == http.StatusUnauthorized },
			5*time.Second, 20*time.Millisecond, "a kid the fetched set lacks is 401")
	})
}
