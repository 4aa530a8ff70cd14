// Package proxy forwards public requests to the modules that run in other
// processes: paths unchanged, request ids and X-Forwarded-*
// passed on, and a module that is down answered with problem+json naming it
// (a 503 with Retry-After when it cannot be reached; a module shutting down
// answers its own 503, passed on as it is). Request bodies, at most 1 MiB,
// are read before they are sent, so a send the module's shutdown cut off
// goes again; answers stream.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"mitosis/modules/gateway"
	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// dialTimeout bounds connecting to a module; a dead host must not hang us.
const dialTimeout = 3 * time.Second

// New returns a reverse proxy to the module at base. timeout bounds the
// wait for the module's response headers; answers then stream unbounded.
// From a peer in trusted (a load balancer in front), the X-Forwarded-For
// chain, -Proto and -Host it sent are kept, the peer appended to the chain;
// from anyone else they are replaced.
func New(module, base string, timeout time.Duration, trusted []*net.IPNet, log *slog.Logger) (*httputil.ReverseProxy, error) {
	target, err := url.Parse(base)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return nil, fmt.Errorf("%s URL %q is not an absolute URL", module, base)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			trustedPeer := peerIn(r.In.RemoteAddr, trusted)
			if trustedPeer {
				r.Out.Header["X-Forwarded-For"] = r.In.Header["X-Forwarded-For"]
			}
			r.SetXForwarded() // appends the peer to the chain
			if trustedPeer {
				for _, h := range []string{echo.HeaderXForwardedProto, "X-Forwarded-Host"} {
					if v := r.In.Header.Get(h); v != "" {
						r.Out.Header.Set(h, v)
					}
				}
			}
			// The gateway's trace context goes on (the transport injects its
			// span), with the gateway's depth; the client's does not.
			telemetry.Inject(r.Out.Context(), r.Out.Header)
		},
		Transport: &http.Transport{
			Proxy:                 nil, // never through an outbound proxy
			DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
		},
		// Flush every write: streamed answers reach the client as they come.
		FlushInterval: -1,
		ModifyResponse: func(res *http.Response) error {
			// The gateway already answers with the request's id, and its own
			// middleware sets the CORS and security headers: the module's
			// copies would double them (two Access-Control-Allow-Origin
			// values, which browsers refuse).
			res.Header.Del(echo.HeaderXRequestID)
			dropEdgeHeaders(res.Header)
			return nil
		},
		ErrorHandler: errorHandler(module, log),
	}, nil
}

// edgeHeaders are the headers the gateway's own middleware answers with.
var edgeHeaders = []string{
	echo.HeaderAccessControlAllowOrigin,
	echo.HeaderAccessControlAllowMethods,
	echo.HeaderAccessControlAllowHeaders,
	echo.HeaderAccessControlAllowCredentials,
	echo.HeaderAccessControlExposeHeaders,
	echo.HeaderAccessControlMaxAge,
	echo.HeaderXXSSProtection,
	echo.HeaderXContentTypeOptions,
	echo.HeaderXFrameOptions,
	echo.HeaderContentSecurityPolicy,
	echo.HeaderContentSecurityPolicyReportOnly,
	echo.HeaderReferrerPolicy,
	echo.HeaderStrictTransportSecurity,
}

// dropEdgeHeaders removes the module's CORS and security headers, and the
// Vary entries its CORS middleware added (the gateway adds its own); other
// Vary entries stay.
func dropEdgeHeaders(h http.Header) {
	for _, name := range edgeHeaders {
		h.Del(name)
	}
	var keep []string
	for _, v := range h.Values(echo.HeaderVary) {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			switch http.CanonicalHeaderKey(f) {
			case "", echo.HeaderOrigin, echo.HeaderAccessControlRequestMethod, echo.HeaderAccessControlRequestHeaders:
			default:
				keep = append(keep, f)
			}
		}
	}
	h.Del(echo.HeaderVary)
	if len(keep) > 0 {
		h.Set(echo.HeaderVary, strings.Join(keep, ", "))
	}
}

// Mount serves the routes of every remote module through its proxy. Routes
// of local modules are served in-process by their own handlers, and
// /internal/ is never proxied. Each forwarded request is a CLIENT span of
// the gateway ("proxy orders"), whose context the module continues.
func Mount(e *echo.Echo, place topology.Placement, timeout time.Duration, trustedProxies []string, tracing *telemetry.Tracing, log *slog.Logger) error {
	trusted, err := settings.TrustedNets(trustedProxies)
	if err != nil {
		return err
	}
	for _, m := range place.Modules() {
		base := place.URL(m.Name)
		if place.IsLocal(m.Name) || base == "" || len(m.Routes) == 0 {
			continue
		}
		rp, err := New(m.Name, base, timeout, trusted, log)
		if err != nil {
			return err
		}
		name := "proxy " + m.Name
		rp.Transport = otelhttp.NewTransport(rp.Transport,
			otelhttp.WithTracerProvider(tracing.Provider(gateway.Name)),
			otelhttp.WithPropagators(telemetry.Propagator),
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return name }))
		handler := func(c echo.Context) error {
			// The id the gateway answers with, generated if the client sent none.
			c.Request().Header.Set(echo.HeaderXRequestID, c.Response().Header().Get(echo.HeaderXRequestID))
			if err := replayable(c.Request()); err != nil {
				return err
			}
			rp.ServeHTTP(c.Response(), c.Request())
			return nil
		}
		for _, prefix := range m.Routes {
			e.Any(prefix, handler)
			e.Any(prefix+"/*", handler)
		}
		log.Info("gateway proxies routes", "target", m.Name, "url", base, "routes", m.Routes)
	}
	return nil
}

// replayable reads the request's body (at most httpserver.BodyLimit, which
// the body limit enforces) so that it can be sent again: a module that
// shuts down closes its idle kept-alive connections, and a request the
// transport had just begun to send on one then goes again on a new
// connection instead of failing as a 502.
func replayable(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // too large (413), or the client is gone
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return nil
}

// errorHandler answers for a module that could not be reached or did not
// answer in time.
func errorHandler(module string, log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		var d problem.Details
		switch {
		case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
			d = problem.From(context.Canceled) // the client left
		case unreachable(err):
			d = problem.From(problem.WithDetail(gateway.ErrModuleUnavailable, "module "+module+" is unreachable"))
		default:
			// The cause is not wrapped: a timeout here is the module's
			// failure (502), not the client's deadline.
			d = problem.From(problem.WithDetail(gateway.ErrBadGateway, "module "+module+" did not answer: "+reason(err)))
		}
		d.Instance = r.URL.Path
		log.WarnContext(r.Context(), "proxy failed", "target", module, "path", r.URL.Path, "status", d.Status, "err", err)
		httpserver.WriteProblem(w, d)
	}
}

// peerIn reports whether the connection's peer is in one of nets.
func peerIn(remoteAddr string, nets []*net.IPNet) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// unreachable reports a failure to connect, as opposed to a module that
// accepted the connection and then failed.
func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func reason(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return "connection failed"
}

// HideInternal answers 404, as if absent, for /internal/ paths a client
// should not know of: those of a module not in this process (the gateway
// never forwards internal routes), and, where the gateway shares the public
// port with local modules, those of a call without the service credentials
// guard checks. Callers with credentials (other processes of a mixed
// topology) still reach the local modules' internal routes.
func HideInternal(place topology.Placement, guard echo.MiddlewareFunc) echo.MiddlewareFunc {
	pass := func(echo.Context) error { return nil }
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			rest, ok := strings.CutPrefix(c.Request().URL.Path, "/internal/")
			if !ok {
				return next(c)
			}
			module, _, _ := strings.Cut(rest, "/")
			if module == gateway.Name || (isModule(place, module) && !place.IsLocal(module)) {
				return problem.ErrNotFound
			}
			// The guard runs again after routing; here it only decides
			// whether the route is admitted to exist.
			if guard(pass)(c) != nil {
				return problem.ErrNotFound
			}
			return next(c)
		}
	}
}

func isModule(place topology.Placement, name string) bool {
	for _, m := range place.Modules() {
		if m.Name == name {
			return true
		}
	}
	return false
}
