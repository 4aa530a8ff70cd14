package httpserver

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"mitosis/platform/auth"
	"mitosis/platform/logging"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// RouteUnmatched names, in logs and metrics, a request no route took (a
// 404, or an answer given before routing, such as a gateway's 429): the
// raw path never becomes a label or a log field.
const RouteUnmatched = "unmatched"

// durationBuckets are the semantic conventions' advice for
// http.server.request.duration, in seconds.
var durationBuckets = []float64{.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10}

// Observer writes one access-log line per request and feeds the
// http_server_request_duration_seconds histogram (the semantic
// conventions' http.server.request.duration), by route template, method,
// status class and the module the route belongs to.
type Observer struct {
	log      *slog.Logger
	place    topology.Placement
	duration *prometheus.HistogramVec
	series   seriesCache
}

// NewObserver registers the histogram on reg.
func NewObserver(log *slog.Logger, reg prometheus.Registerer, place topology.Placement) (*Observer, error) {
	o := &Observer{log: log, place: place, duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_server_request_duration_seconds",
		Help:    "Duration of HTTP requests served on the public port, by method, route template, status class and module.",
		Buckets: durationBuckets,
	}, []string{"http_request_method", "http_route", "http_response_status_class", "module"})}
	return o, reg.Register(o.duration)
}

// Middleware must be the first Pre middleware, so it sees every answer,
// those given before routing included. It answers an error itself
// (through the error handler), so the status it records is the one sent.
// The line carries the method, route, status, duration, bytes written,
// the module (proxied when it runs elsewhere), on internal routes the
// calling module, and for an error the problem's code; never a body, a
// header, a query or the raw path.
func (o *Observer) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		module := o.place.Owner(req.URL.Path)
		if module != "" {
			if scope := telemetry.ScopeFrom(req.Context()); scope != nil {
				scope.Module = module
			} else {
				c.SetRequest(req.WithContext(logging.WithModule(req.Context(), module)))
			}
		}
		err := next(c)
		answered := err != nil && !c.Response().Committed // by the error handler, with err's problem
		if err != nil {
			c.Error(err)
		}
		end := time.Now()
		took := end.Sub(start)
		res := c.Response()
		route := c.Path()
		// echo's own not-found and method-not-allowed handlers leave the
		// path of the nearest node, not a route.
		if route == "" || errors.Is(err, echo.ErrNotFound) || errors.Is(err, echo.ErrMethodNotAllowed) {
			route = RouteUnmatched
		}
		o.series.of(o.duration, seriesKey{method(req.Method), route, statusClass(res.Status), module}).Observe(took.Seconds())

		ctx := c.Request().Context()
		if transport.RequestID(ctx) == "" {
			ctx = transport.WithRequestID(ctx, res.Header().Get(echo.HeaderXRequestID))
		}
		level := slog.LevelInfo
		if strings.HasPrefix(route, "/health") {
			level = slog.LevelDebug // probes every few seconds: not worth a line each
		}
		if !o.log.Enabled(ctx, level) {
			return nil
		}
		// The record is made here rather than by LogAttrs, which would
		// walk the stack for the caller's source on every request, and no
		// handler of ours reports a source (HandlerOptions.AddSource).
		line := slog.NewRecord(end, level, "request", 0)
		line.AddAttrs(
			slog.String("method", req.Method), slog.String("route", route), slog.Int("status", res.Status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000), slog.Int64("bytes", res.Size),
		)
		if module != "" && !o.place.IsLocal(module) {
			line.AddAttrs(slog.Bool("proxied", true))
		}
		// The last two in one call: the record keeps five in place and the
		// rest in a slice, grown once.
		var more [2]slog.Attr
		n := 0
		if caller := auth.Caller(ctx); caller != "" {
			more[n] = slog.String("caller", caller)
			n++
		}
		if answered {
			d, _ := answer(err)
			more[n] = slog.String("code", d.Code)
			n++
		}
		line.AddAttrs(more[:n]...)
		_ = o.log.Handler().Handle(ctx, line)
		return nil
	}
}

// method keeps the method label to the standard methods, as the semantic
// conventions say (_OTHER for anything else).
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// statusClasses are the label values of the classes, made once.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return statusClasses[status/100-1]
}
