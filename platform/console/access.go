package console

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// Access decides who may read the console's data and act on it. In
// development a caller on loopback may (the machine's own operator);
// anyone else needs an access token of the users module with role admin
// (`app users promote EMAIL`), as a bearer token. The listener itself
// stays private (ADMIN_ADDR); this is a second lock, not the first.
type Access struct {
	dev    bool
	tokens *auth.Verifier
}

// NewAccess is the access of cfg, with tokens verified by tokens.
func NewAccess(cfg config.Config, tokens *auth.Verifier) *Access {
	return &Access{dev: cfg.Env == config.Development, tokens: tokens}
}

var (
	errNeedAdmin  = problem.New("console_unauthorized", http.StatusUnauthorized, "The console needs an admin's access token")
	errNotAdmin   = problem.New("console_forbidden", http.StatusForbidden, "The console is for admins only")
	errCrossSite  = problem.New("console_cross_site", http.StatusForbidden, "Console actions come from the console's own page only")
	errNotJSONAct = problem.New("unsupported_media_type", http.StatusUnsupportedMediaType, "Console actions are JSON requests")
)

// Read guards a route that shows the system.
func (a *Access) Read(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.dev && loopback(c.Request().RemoteAddr) {
			return next(c)
		}
		raw, _ := auth.Bearer(c) // none: "", which Admit refuses
		if err := a.Admit(c.Request().Context(), raw); err != nil {
			return err
		}
		return next(c)
	}
}

// Admit is nil when raw is a valid access token of an admin: the problem
// console_unauthorized (no valid token) or console_forbidden (not an
// admin's) otherwise. The console's login checks what it obtained with it.
// Keys that cannot be read (users down) stay the verifier's 503: the token
// may be good, and a 401 would end the admin's session.
func (a *Access) Admit(ctx context.Context, raw string) error {
	if raw == "" {
		return errNeedAdmin
	}
	claims, err := a.tokens.Verify(ctx, raw)
	if errors.Is(err, problem.ErrUnavailable) {
		return err
	}
	if err != nil {
		return errNeedAdmin
	}
	if claims.Role != auth.RoleAdmin {
		return errNotAdmin
	}
	return nil
}

// Act guards a route that changes something (replay): who may read, and a
// request no other site can make a browser send. It must be a JSON POST
// (a form or a simple cross-origin request cannot be one without a CORS
// preflight, which the admin listener never answers), and a browser's
// Origin and Sec-Fetch-Site must say it comes from this listener's page.
func (a *Access) Act(next echo.HandlerFunc) echo.HandlerFunc { return a.Read(SameSite(next)) }

// SameSite guards a JSON POST that only the console's own page may send
// (Act without the admin check: the console's login, where the caller has
// no token yet).
func SameSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
			return errNotJSONAct
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			return errCrossSite
		}
		if origin := r.Header.Get(echo.HeaderOrigin); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || !strings.EqualFold(u.Host, r.Host) {
				return errCrossSite
			}
		}
		return next(c)
	}
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
