package httpserver

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"mitosis/platform/config"
	"mitosis/platform/telemetry"
)

// apiCSP suits an API that answers JSON: nothing may load, frame or run.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// hstsMaxAge is one year, sent in production behind TLS.
const hstsMaxAge = 365 * 24 * 60 * 60

// internalPrefix starts every route between modules (contract methods,
// event deliveries), each behind service credentials.
const internalPrefix = "/internal/"

// betweenModules reports whether r is a call from another module: to an
// internal route, and not from a browser, whose fetch names its Origin. Its
// answer is read by our transport, never rendered, framed or cached, so
// the headers that tell a browser how to treat a document are left off:
// each costs the callee a header to write and the caller two allocations
// to parse (its name and its value), on every call. nosniff stays, on
// every answer.
func betweenModules(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, internalPrefix) && len(r.Header["Origin"]) == 0
}

// secureHeaders sets the usual security headers on every answer (on a call
// between modules, nosniff only), as echo's Secure middleware would with
// these settings, with each header's name canonical and its values made
// once: Secure's Set would build the name "X-XSS-Protection" anew and a
// slice for each value, six allocations per request.
func secureHeaders(cfg config.Config) echo.MiddlewareFunc {
	nosniff := []string{"nosniff"}
	documents := []struct {
		name   string
		values []string
	}{
		{"X-Xss-Protection", []string{"0"}}, // the old XSS auditors are gone; CSP does the job
		{"X-Frame-Options", []string{"DENY"}},
		{"Content-Security-Policy", []string{apiCSP}},
		{"Referrer-Policy", []string{"no-referrer"}},
	}
	// HSTS only in production, and only over TLS (or behind a TLS proxy
	// that says so), as echo's Secure decides it.
	var hsts []string
	if cfg.IsProduction() {
		hsts = []string{"max-age=" + strconv.Itoa(hstsMaxAge) + "; includeSubdomains"}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h["X-Content-Type-Options"] = nosniff // shared: see transport's jsonValue
			if betweenModules(c.Request()) {
				return next(c)
			}
			for _, f := range documents {
				h[f.name] = f.values
			}
			if hsts != nil && c.Scheme() == "https" {
				h["Strict-Transport-Security"] = hsts
			}
			return next(c)
		}
	}
}

// cors lets the configured browser origins call the API. Tokens travel in
// the Authorization header, never in cookies, so credentials stay off.
//
// A request without an Origin that is not a preflight (most API clients)
// only gets "Vary: Origin", set here with a shared value: echo's CORS
// middleware would add it with a slice of its own. A call between modules
// gets nothing: its answer is never cached, and no browser reads it.
func cors(cfg config.Config) echo.MiddlewareFunc {
	browsers := middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(origin string) (bool, error) { return originAllowed(cfg, origin), nil },
		AllowMethods:    []string{"GET", "POST", "OPTIONS"},
		// A traced front end may send its trace context (W3C, or the seed's
		// x-trace-id).
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key",
			"Traceparent", "Tracestate", "Baggage", telemetry.TraceIDHeader},
		// A browser reads only the exposed headers of a cross-origin answer:
		// the request id, when to retry after a 429 or 503, and the trace.
		ExposeHeaders: []string{echo.HeaderXRequestID, echo.HeaderRetryAfter,
			"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
			telemetry.TraceIDHeader, telemetry.ServiceHeader, telemetry.DepthHeader},
		MaxAge: 600,
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.Method == http.MethodOptions || len(req.Header["Origin"]) > 0 {
				return browsers(next)(c)
			}
			if betweenModules(req) {
				return next(c)
			}
			h := c.Response().Header()
			if vary := h["Vary"]; len(vary) > 0 {
				h["Vary"] = append(vary, "Origin")
			} else {
				h["Vary"] = varyOrigin
			}
			return next(c)
		}
	}
}

var varyOrigin = []string{"Origin"}

// originAllowed: exactly the configured origins; with none configured, in
// development only, any loopback origin (a front end on localhost:3000).
func originAllowed(cfg config.Config, origin string) bool {
	origin = strings.ToLower(origin)
	if len(cfg.HTTP.CORSAllowedOrigins) > 0 {
		return slices.Contains(cfg.HTTP.CORSAllowedOrigins, origin)
	}
	if cfg.Env != config.Development {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" || u.User != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
