package httpserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"

	"github.com/labstack/echo/v4"

	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// Router serves a process's echo instance with its middleware composed
// once. Echo's own ServeHTTP wraps every Pre and Use middleware around the
// handler again on each request, one closure each: a dozen allocations
// per request here, on every call between modules. The Router keeps the
// same two lists, in the same order, and composes them when the server
// starts: Pre middleware before routing, Use middleware after it, around
// the route's handler.
//
// Middleware is registered on the Router (Pre, Use), never on Echo:
// Compose refuses to start a server whose Echo holds middleware of its
// own, which this handler would not run. Routes go on Echo as usual.
type Router struct {
	Echo *echo.Echo
	log  *slog.Logger

	mu       sync.Mutex
	pre, use []echo.MiddlewareFunc
	composed bool

	once  sync.Once
	chain echo.HandlerFunc // set once, by compose
	err   error
}

// NewRouter builds the echo instance as New does, its middleware held by
// the Router: first run before anything else (the Observer's access log
// and metrics, which must see every answer).
func NewRouter(cfg config.Config, log *slog.Logger, first ...echo.MiddlewareFunc) *Router {
	e := newEcho(log)
	pre, use := shared(cfg, log, first)
	return &Router{Echo: e, log: log, pre: pre, use: use}
}

// ErrComposed refuses middleware registered once the Router serves.
var ErrComposed = errors.New("the server's middleware is composed already: register it before the server starts")

// Pre adds middleware run before routing, after those added before.
func (r *Router) Pre(mw ...echo.MiddlewareFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.composed {
		return ErrComposed
	}
	r.pre = append(r.pre, mw...)
	return nil
}

// Use adds middleware run after routing, after those added before.
func (r *Router) Use(mw ...echo.MiddlewareFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.composed {
		return ErrComposed
	}
	r.use = append(r.use, mw...)
	return nil
}

// Compose builds the handler chain; later Pre and Use calls fail. It
// refuses an Echo that holds middleware of its own (registered with
// echo's Pre or Use), which the chain would skip, and then nothing is
// served. The first request composes it too, when no one has.
func (r *Router) Compose() error {
	r.once.Do(r.compose)
	return r.err
}

func (r *Router) compose() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.composed = true
	if n := echoMiddleware(r.Echo); n != 0 {
		r.err = fmt.Errorf("echo holds middleware of its own (echo's Pre or Use: %d), which the server would not run: register it on the httpserver.Router", n)
		r.log.Error("http server not serving", "err", r.err)
		return
	}
	e := r.Echo
	routed := applyMiddleware(func(c echo.Context) error { return c.Handler()(c) }, r.use)
	r.chain = applyMiddleware(func(c echo.Context) error {
		req := c.Request()
		router := e.Router()
		if hosts := e.Routers(); len(hosts) > 0 {
			if byHost, ok := hosts[req.Host]; ok {
				router = byHost
			}
		}
		router.Find(req.Method, echo.GetPath(req), c)
		return routed(c)
	}, r.pre)
}

// ServeHTTP serves req as echo's ServeHTTP does, through the composed
// chain. echo routes with the request it was given; this routes with the
// request as the Pre middleware left it (the same URL, unless one
// replaced it).
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if err := r.Compose(); err != nil { // nothing is served unguarded
		d := problem.From(problem.ErrInternal)
		d.Instance = req.URL.Path
		WriteProblem(w, d)
		return
	}
	e := r.Echo
	c := e.AcquireContext()
	c.Reset(req, w)
	if err := r.chain(c); err != nil {
		e.HTTPErrorHandler(err, c)
	}
	e.ReleaseContext(c)
}

// applyMiddleware wraps h in mw, the first outermost, as echo does.
func applyMiddleware(h echo.HandlerFunc, mw []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// echoMiddleware counts the middleware registered on e itself, read from
// echo's unexported lists (their length only). -1: echo no longer keeps
// them under these names, which a test of this package notices.
func echoMiddleware(e *echo.Echo) int {
	v := reflect.ValueOf(e).Elem()
	pre, use := v.FieldByName("premiddleware"), v.FieldByName("middleware")
	if !pre.IsValid() || !use.IsValid() || pre.Kind() != reflect.Slice || use.Kind() != reflect.Slice {
		return -1
	}
	return pre.Len() + use.Len()
}
