package console_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"mitosis/platform/admin"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/console"
	"mitosis/platform/problem"
)

type keys map[string]ed25519.PublicKey

func (k keys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if key, ok := k[kid]; ok {
		return key, nil
	}
	return nil, auth.ErrUnknownKey
}

// rig is an admin server with a read route and an action route behind the
// console's access, and tokens of an admin and of a customer.
type rig struct {
	srv             *httptest.Server
	admin, customer string
}

func newRig(t *testing.T, env string) rig {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	key := auth.SigningKey{ID: auth.KeyID(pub), Private: priv}
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := auth.NewVerifier(keys{key.ID: pub}, "mitosis", "mitosis-api", time.Now)
	access := console.NewAccess(config.Config{Env: env}, verifier)
	s := admin.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Handle(http.MethodGet, "/read", "", access.Read(func(c echo.Context) error { return c.String(http.StatusOK, "shown") }))
	s.Handle(http.MethodPost, "/act", "", access.Act(func(c echo.Context) error { return c.String(http.StatusOK, "done") }))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a, err := issuer.Issue(key, "admin-1", auth.RoleAdmin)
	require.NoError(t, err)
	c, err := issuer.Issue(key, "user-1", auth.RoleCustomer)
	require.NoError(t, err)
	return rig{srv: srv, admin: a.Token, customer: c.Token}
}

func (r rig) do(t *testing.T, method, path, token string, headers ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(`{"module":"users"}`)
	}
	req, err := http.NewRequest(method, r.srv.URL+path, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(out)
}

// In development, a caller on loopback needs no token.
func TestDevelopmentLoopbackIsOpen(t *testing.T) {
	r := newRig(t, config.Development)
	code, body := r.do(t, http.MethodGet, "/read", "")
	require.Equal(t, http.StatusOK, code, body)
	code, _ = r.do(t, http.MethodPost, "/act", "", "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code)
}

// Elsewhere, reading needs an admin's token: none or a bad one is a 401, a
// customer's a 403.
func TestProductionNeedsAnAdmin(t *testing.T) {
	r := newRig(t, config.Production)
	for _, tok := range []string{"", "not-a-token", r.customer + "x"} {
		code, body := r.do(t, http.MethodGet, "/read", tok)
		require.Equal(t, http.StatusUnauthorized, code, body)
		require.Contains(t, body, `"code":"console_unauthorized"`)
	}
	code, body := r.do(t, http.MethodGet, "/read", r.customer)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, `"code":"console_forbidden"`)
	code, body = r.do(t, http.MethodGet, "/read", r.admin)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "shown", body)
	code, _ = r.do(t, http.MethodPost, "/act", r.customer, "Content-Type", "application/json")
	require.Equal(t, http.StatusForbidden, code)
}

// An action is a same-origin JSON POST: what another site can make a
// browser send (a form, a cross-site fetch) is refused, even with the
// admin's token.
func TestActionsAreSafeAgainstCrossSiteRequests(t *testing.T) {
	r := newRig(t, config.Development)
	host := strings.TrimPrefix(r.srv.URL, "http://")
	notJSON := `"code":"unsupported_media_type"`
	crossSite := `"code":"console_cross_site"`
	for name, tc := range map[string]struct {
		headers []string
		status  int
		code    string
	}{
		"a form":                   {[]string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, notJSON},
		"plain text":               {[]string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, notJSON},
		"another site's page":      {[]string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, crossSite},
		"a sibling site's page":    {[]string{"Content-Type", "application/json", "Sec-Fetch-Site", "same-site"}, http.StatusForbidden, crossSite},
		"another origin":           {[]string{"Content-Type", "application/json", "Origin", "http://evil.example"}, http.StatusForbidden, crossSite},
		"another port on the host": {[]string{"Content-Type", "application/json", "Origin", "http://127.0.0.1:1"}, http.StatusForbidden, crossSite},
	} {
		code, body := r.do(t, http.MethodPost, "/act", r.admin, tc.headers...)
		require.Equal(t, tc.status, code, "%s: %s", name, body)
		require.Contains(t, body, tc.code, name)
	}
	code, body := r.do(t, http.MethodPost, "/act", r.admin, "Content-Type", "application/json",
		"Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "done", body)
}

type downKeys struct{}

func (downKeys) PublicKey(context.Context, string) (ed25519.PublicKey, error) {
	return nil, fmt.Errorf("%w: connection refused", auth.ErrKeysUnavailable)
}

// Keys that cannot be read (users down) are a 503, not a 401: the page
// keeps the admin's session and shows the trouble instead of a login.
func TestUnreadableKeysAreUnavailable(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	tok, err := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now).
		Issue(auth.SigningKey{ID: auth.KeyID(pub), Private: priv}, "admin-1", auth.RoleAdmin)
	require.NoError(t, err)
	access := console.NewAccess(config.Config{Env: config.Production}, auth.NewVerifier(downKeys{}, "mitosis", "mitosis-api", time.Now))
	err = access.Admit(t.Context(), tok.Token)
	require.ErrorIs(t, err, problem.ErrUnavailable)
	require.Equal(t, http.StatusServiceUnavailable, problem.From(err).Status)
}

// The token is read as every guarded route reads it (auth.Bearer): the
// scheme in any case, and one Authorization header only.
func TestTokenIsReadAsAuthReadsIt(t *testing.T) {
	r := newRig(t, config.Production)
	ask := func(values ...string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, r.srv.URL+"/read", nil)
		require.NoError(t, err)
		for _, v := range values {
			req.Header.Add("Authorization", v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(body)
	}
	code, body := ask("bearer " + r.admin)
	require.Equal(t, http.StatusOK, code, body)
	code, body = ask("Bearer "+r.admin, "Bearer "+r.customer)
	require.Equal(t, http.StatusUnauthorized, code, body)
	require.Contains(t, body, `"code":"console_unauthorized"`)
}
