package httpapi

import (
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/modules/users"
	"mitosis/platform/admin"
	"mitosis/platform/console"
	"mitosis/platform/problem"
	"mitosis/platform/throttle"
	"mitosis/platform/transport"
)

// maxLoginBody bounds a console login's body (an email and a password, or
// a refresh token).
const maxLoginBody = 8 << 10

// MountConsole serves the console's admin login on the admin listener of a
// process that runs users or calls it: the page sends an email and a
// password (or a refresh token) to its own listener, which asks users'
// contract (in-process or over HTTP) for the users module's own token and
// hands it over only when it carries the admin role. The token travels in
// answer bodies only, never in a URL or a cookie (so no request of another
// site can use it), and the routes take JSON from the console's own page
// only (console.SameSite). Logins are limited per client IP by logins (nil:
// not limited), as the gateway limits the public ones: each costs a
// password hash, and an admin's password must not be open to guessing.
func MountConsole(s *admin.Server, svc users.Service, access *console.Access, logins *throttle.Buckets) {
	s.Handle(http.MethodPost, admin.Prefix+"/console/login", "The console's admin login: body {email, password}; an admin's token, or 401/403 (429 past USERS_CONSOLE_LOGIN_LIMIT)",
		console.SameSite(limitLogins(logins, consoleLogin(svc, access))))
	s.Handle(http.MethodPost, admin.Prefix+"/console/refresh", "Renew the console's admin token: body {refresh_token}",
		console.SameSite(consoleRefresh(svc, access)))
	s.Handle(http.MethodPost, admin.Prefix+"/console/logout", "End the console's admin session: body {refresh_token}",
		console.SameSite(consoleLogout(svc)))
}

// limitLogins answers 429 (throttle.ErrRateLimited, with Retry-After) to a
// client IP past its logins. The IP is the connection's peer: the admin
// listener trusts no proxy, so X-Forwarded-For buys no new bucket.
func limitLogins(logins *throttle.Buckets, next echo.HandlerFunc) echo.HandlerFunc {
	if logins == nil {
		return next
	}
	peer := echo.ExtractIPDirect()
	return func(c echo.Context) error {
		if err := logins.Check(c.Response().Header(), "ip:"+peer(c.Request()), "the console's login", time.Now()); err != nil {
			return err
		}
		return next(c)
	}
}

// consoleLogin answers an admin's email and password with their token.
func consoleLogin(svc users.Service, access *console.Access) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in users.Credentials
		if err := transport.Decode(io.LimitReader(c.Request().Body, maxLoginBody), &in); err != nil {
			return err
		}
		if in.Email == "" || in.Password == "" {
			return problem.Invalid("email", "email and password are required")
		}
		tok, err := svc.Authenticate(c.Request().Context(), in)
		if err != nil {
			return err
		}
		return adminToken(c, svc, access, tok)
	}
}

// consoleRefresh renews an admin's token.
func consoleRefresh(svc users.Service, access *console.Access) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in users.RefreshRequest
		if err := transport.Decode(io.LimitReader(c.Request().Body, maxLoginBody), &in); err != nil {
			return err
		}
		tok, err := svc.Refresh(c.Request().Context(), in)
		if err != nil {
			return err
		}
		return adminToken(c, svc, access, tok)
	}
}

// consoleLogout ends the session of a refresh token.
func consoleLogout(svc users.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in users.RefreshRequest
		if err := transport.Decode(io.LimitReader(c.Request().Body, maxLoginBody), &in); err != nil {
			return err
		}
		if _, err := svc.Logout(c.Request().Context(), in); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// adminToken answers with tok when it is an admin's; otherwise it revokes
// the login it came from (a customer gets nothing out of the console) and
// answers console_forbidden.
func adminToken(c echo.Context, svc users.Service, access *console.Access, tok users.Token) error {
	if err := access.Admit(c.Request().Context(), tok.AccessToken); err != nil {
		_, _ = svc.Logout(c.Request().Context(), users.RefreshRequest{RefreshToken: tok.RefreshToken})
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, tok)
}
