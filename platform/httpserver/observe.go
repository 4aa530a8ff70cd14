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
			c.SetRequest(req.WithContext(logging.WithModule(req.Context(), module)))
		}
		err := next(c)
		answered := err != nil && !c.Response().Committed // by the error handler, with err's problem
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		res := c.Response()
		route := c.Path()
		// echo's own not-found and method-not-allowed handlers leave the
		// path of the nearest node, not a route.
		if route == "" || errors.Is(err, echo.ErrNotFound) || errors.Is(err, echo.ErrMethodNotAllowed) {
			route = RouteUnmatched
		}
		o.duration.WithLabelValues(method(req.Method), route, statusClass(res.Status), module).Observe(took.Seconds())

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
		attrs := []slog.Attr{
			slog.String("method", req.Method), slog.String("route", route), slog.Int("status", res.Status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000), slog.Int64("bytes", res.Size),
		}
		if module != "" && !o.place.IsLocal(module) {
			attrs = append(attrs, slog.Bool("proxied", true))
		}
		if caller := auth.Caller(ctx); caller != "" {
			attrs = append(attrs, slog.String("caller", caller))
		}
		if answered {
			d, _ := answer(err)
			attrs = append(attrs, slog.String("code", d.Code))
		}
		o.log.LogAttrs(ctx, level, "request", attrs...)
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

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return string(rune('0'+status/100)) + "xx"
}
