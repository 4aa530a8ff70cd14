package httpserver

import (
	"net"
	"net/url"
	"slices"
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

// secureHeaders sets the usual security headers on every answer.
func secureHeaders(cfg config.Config) echo.MiddlewareFunc {
	sc := middleware.SecureConfig{
		XSSProtection:         "0", // the old XSS auditors are gone; CSP does the job
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ContentSecurityPolicy: apiCSP,
		ReferrerPolicy:        "no-referrer",
	}
	if cfg.IsProduction() {
		sc.HSTSMaxAge = hstsMaxAge
	}
	return middleware.SecureWithConfig(sc)
}

// cors lets the configured browser origins call the API. Tokens travel in
// the Authorization header, never in cookies, so credentials stay off.
func cors(cfg config.Config) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
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
}

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
