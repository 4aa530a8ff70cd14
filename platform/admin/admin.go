// Package admin runs the admin listener: an HTTP server of its own, on
// ADMIN_ADDR (127.0.0.1:9090 by default; off disables it), never on the
// public port. It serves /metrics for Prometheus and versioned JSON routes
// under /admin/v1/ for operators and the console: each part of the process
// adds its own (Handle), and GET /admin/v1 lists them.
//
// Its own routes are not authenticated (the console's add their own access,
// platform/console): the listener is for the machine, the pod
// or the private network only. Bind it to loopback (the default) or to an
// address no one outside can reach; never publish it.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// Prefix is the version of the admin routes; a route whose answer changes
// shape goes under the next one.
const Prefix = "/admin/v1"

// Route is one documented admin route.
type Route struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary"`
}

// Server holds the admin routes; Start binds it.
type Server struct {
	e   *echo.Echo
	log *slog.Logger

	mu     sync.Mutex
	routes []Route
	srv    *http.Server
	addr   net.Addr
	done   chan error
}

// New returns a server with its index route.
func New(log *slog.Logger) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusNotFound {
			err = problem.ErrNotFound
		}
		d := problem.From(err)
		d.Instance = c.Request().URL.Path
		if d.Status >= 500 {
			log.ErrorContext(c.Request().Context(), "admin request failed", "path", d.Instance, "err", err)
		}
		// An RFC 9457 answer, as on the public port (echo keeps a type set
		// before it writes).
		c.Response().Header().Set(echo.HeaderContentType, problem.ContentType)
		if d.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set(echo.HeaderRetryAfter, "1")
		}
		_ = c.JSON(d.Status, d)
	}
	e.Use(middleware.Recover())
	s := &Server{e: e, log: log}
	s.Handle(http.MethodGet, Prefix, "This list: every admin route", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string][]Route{"routes": s.Routes()})
	})
	return s
}

// Handle adds a route; summary documents it in the index.
func (s *Server) Handle(method, path, summary string, h echo.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.e.Add(method, path, h)
	s.routes = append(s.routes, Route{Method: method, Path: path, Summary: summary})
}

// Routes lists the routes, by path.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ServeHTTP serves the admin routes (for tests without a listener).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// Start listens on addr and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin listener on %s (ADMIN_ADDR): %w", addr, err)
	}
	s.srv = &http.Server{Handler: s.e, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	s.addr, s.done = ln.Addr(), make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	s.log.Info("admin listener", "addr", s.addr.String(), "routes", Prefix+", /metrics")
	return nil
}

// Addr is the bound address, once started.
func (s *Server) Addr() string { return s.addr.String() }

// Stop ends the listener, within ctx.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(err, serveErr)
	}
	return err
}

// Bound receives the admin listener's address once it listens ("" when
// ADMIN_ADDR is off).
type Bound struct{ Addr string }

// Module provides the server and runs it while the app runs, unless
// ADMIN_ADDR is off. Its start hook is registered where the option is
// placed: early, so operators see the process while its modules start.
var Module = fx.Options(
	fx.Provide(New),
	fx.Invoke(func(lc fx.Lifecycle, s *Server, cfg config.Config, out *Bound, log *slog.Logger) {
		if !cfg.Admin.Enabled() {
			log.Info("admin listener off (ADMIN_ADDR=off): no /metrics")
			return
		}
		lc.Append(fx.Hook{
			OnStart: func(context.Context) error {
				if err := s.Start(cfg.Admin.Addr); err != nil {
					return err
				}
				out.Addr = s.Addr()
				return nil
			},
			OnStop: s.Stop,
		})
	}),
)
