// Package httpserver runs the one echo server of a process: every local
// module mounts its routes on it, errors leave it as problem+json, and fx
// starts and stops it.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/health"
	"mitosis/platform/problem"
	"mitosis/platform/shutdown"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// BodyLimit caps request bodies: exactly 1 MiB (echo would read "1M" as
// 1,000,000 bytes).
const BodyLimit = transport.MaxBodyBytes

// New builds the echo instance with the shared middleware and error
// handler; first run before anything else (the Observer's access log and
// metrics, which must see every answer). Its middleware is echo's own,
// wrapped around each request anew; a process serves through a Router
// (NewRouter), which composes the same middleware once.
func New(cfg config.Config, log *slog.Logger, first ...echo.MiddlewareFunc) *echo.Echo {
	e := newEcho(log)
	pre, use := shared(cfg, log, first)
	e.Pre(pre...)
	e.Use(use...)
	return e
}

func newEcho(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = ErrorHandler(log)
	return e
}

// shared is the middleware of every server: Pre (before routing) and Use
// (after), in order.
func shared(cfg config.Config, log *slog.Logger, first []echo.MiddlewareFunc) (pre, use []echo.MiddlewareFunc) {
	pre = append(pre, first...)
	// Before routing and before any later Pre middleware, so the answers
	// those give (a gateway's 429, a hidden route's 404, a late request's
	// 503) carry the trace, request id, security and CORS headers too.
	pre = append(pre, traceHeaders(), requestID, secureHeaders(cfg), cors(cfg), refuseLate)
	use = append(use,
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		}}),
		middleware.BodyLimit(strconv.Itoa(BodyLimit)+"B"),
		Deadline, routeSpan)
	return pre, use
}

// Server is the running HTTP server; Addr is known after start.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	addr net.Addr
	done chan error
	log  *slog.Logger
	// linger keeps the kept-alive connections open at least this long
	// after the listener closes, so that their clients get a 503 rather
	// than a connection closed under a request they were sending.
	linger  time.Duration
	closing atomic.Bool
	active  atomic.Int64 // requests being handled
}

// maxLinger bounds linger, which follows SHUTDOWN_DELAY (a process behind a
// load balancer has kept-alive connections from it).
const maxLinger = time.Second

// Addr is the bound address (useful with HTTP_ADDR=127.0.0.1:0).
func (s *Server) Addr() string { return s.addr.String() }

// Start binds the listener and serves h, built on New, in the background.
// The timeouts end slow or stuck clients (slowloris) before they pile up.
func Start(h http.Handler, addr string, timeouts config.HTTP, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{ln: ln, addr: ln.Addr(), done: make(chan error, 1), log: log}
	s.srv = &http.Server{
		Handler:           s.guard(h),
		ReadHeaderTimeout: timeouts.ReadHeaderTimeout,
		ReadTimeout:       timeouts.ReadTimeout,
		WriteTimeout:      timeouts.WriteTimeout,
		IdleTimeout:       timeouts.IdleTimeout,
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	log.Info("http server listening", "addr", s.Addr())
	return s, nil
}

// Stop closes the listener, answers requests that still arrive on open
// connections with 503 (ErrClosing), and waits for those in flight within
// shutdown.Drain(ctx); the connections are then closed, past it cut.
func (s *Server) Stop(ctx context.Context) error {
	s.closing.Store(true)
	lnErr := s.ln.Close()
	serveErr := <-s.done
	if errors.Is(serveErr, net.ErrClosed) || errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	s.log.Info("shutdown: listener closed, finishing requests in flight", "in_flight", s.active.Load())
	drain, cancel := shutdown.Drain(ctx)
	defer cancel()
	lingered := time.After(s.linger)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-drain.Done():
			waiting = false
		case <-tick.C:
			if s.active.Load() == 0 {
				select {
				case <-lingered:
					waiting = false
				default:
				}
			}
		}
	}
	err := s.srv.Shutdown(drain)
	if err != nil {
		s.log.Warn("shutdown: requests still in flight were cut", "in_flight", s.active.Load())
		err = errors.Join(err, s.srv.Close())
	} else {
		s.log.Info("shutdown: requests in flight finished, connections closed")
	}
	if errors.Is(lnErr, net.ErrClosed) {
		lnErr = nil
	}
	return errors.Join(err, lnErr, serveErr)
}

// guard counts the requests in flight and, once the server is closing,
// marks new ones late (a kept-alive connection outlives the listener): the
// chain New builds answers them 503 before any handler (refuseLate), with
// a request id, an access-log line and CORS as every answer has.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1) // before the check: Stop sees it in flight, or it sees Stop
		defer s.active.Add(-1)
		if s.closing.Load() {
			w.Header().Set("Connection", "close")
			r = markLate(r)
		}
		next.ServeHTTP(w, r)
	})
}

// ErrClosing answers a request that arrives after the listener closed, on a
// connection opened before: the process is shutting down, another replica
// (or this one, restarted) will serve it.
var ErrClosing = problem.New("shutting_down", http.StatusServiceUnavailable, "Shutting down")

// Module provides the echo instance every module mounts its routes on,
// and the Router that serves it, observed (access log and metrics).
// Middleware goes on the Router.
var Module = fx.Module("http", fx.Provide(
	func(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, place topology.Placement) (*Router, error) {
		o, err := NewObserver(log, reg, place)
		if err != nil {
			return nil, err
		}
		return NewRouter(cfg, log, o.Middleware), nil
	},
	func(r *Router) *echo.Echo { return r.Echo },
	func(r *Router, tracing *telemetry.Tracing, place topology.Placement) Handler {
		return Handler{Traced(r, tracing, place)}
	}))

// Handler is the process's whole handler as its listener serves it (the
// server span, then echo): what a call between its own modules goes
// through too when LOCAL_CALLS=strict.
type Handler struct{ http.Handler }

// Serve starts the server. fx runs start hooks in the order they were
// registered, so this option must come after every module's (migrations
// included): the process then answers only once it can serve. The
// middleware is composed then, once every module has registered its own.
var Serve = fx.Invoke(func(lc fx.Lifecycle, r *Router, h Handler, checks *health.Registry, cfg config.Config, log *slog.Logger, out *Bound) {
	var s *Server
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if err := r.Compose(); err != nil {
				return err
			}
			var err error
			s, err = Start(closeWhile(checks.Draining, h), cfg.HTTPAddr, cfg.HTTP, log)
			if err == nil {
				s.linger = min(cfg.Shutdown.Delay, maxLinger)
				out.Addr = s.Addr()
			}
			return err
		},
		OnStop: func(ctx context.Context) error { return s.Stop(ctx) },
	})
})

// Bound receives the listening address once the server starts.
type Bound struct{ Addr string }
