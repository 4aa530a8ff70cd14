package httpserver_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
)

// routes mounts the same routes, and registers the same extra middleware
// through pre and use, on a server built either way.
func routes(e *echo.Echo, pre, use func(...echo.MiddlewareFunc), order *[]string) {
	note := func(name string) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				*order = append(*order, name+" "+c.Path()) // the route is known after routing only
				return next(c)
			}
		}
	}
	pre(note("pre1"), note("pre2"))
	pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("X-Limit") != "" { // a gateway's 429, before routing
				c.Response().Header().Set(echo.HeaderRetryAfter, "7")
				return echo.NewHTTPError(http.StatusTooManyRequests)
			}
			return next(c)
		}
	})
	use(note("use1"), note("use2"))
	e.GET("/ok", func(c echo.Context) error {
		*order = append(*order, "handler")
		return c.JSON(http.StatusOK, map[string]string{"ok": "yes"})
	})
	e.GET("/items/:id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")) })
	e.POST("/boom", func(echo.Context) error { return errors.New("boom") })
	e.GET("/panic", func(echo.Context) error { panic("at the handler") })
	e.POST("/echo", func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/plain", body)
	})
}

// A Router answers every request as echo's own ServeHTTP does with the
// same middleware registered with Pre and Use, in the same order: before
// routing, then after it around the handler.
func TestRouterServesAsEchoDoes(t *testing.T) {
	cfg := config.Config{Env: config.Production, HTTP: config.HTTP{CORSAllowedOrigins: []string{"https://shop.example.com"}}}
	var viaEcho, viaRouter []string
	e := httpserver.New(cfg, quiet())
	routes(e, func(mw ...echo.MiddlewareFunc) { e.Pre(mw...) }, func(mw ...echo.MiddlewareFunc) { e.Use(mw...) }, &viaEcho)
	r := httpserver.NewRouter(cfg, quiet())
	routes(r.Echo, func(mw ...echo.MiddlewareFunc) { require.NoError(t, r.Pre(mw...)) },
		func(mw ...echo.MiddlewareFunc) { require.NoError(t, r.Use(mw...)) }, &viaRouter)
	require.NoError(t, r.Compose())

	requests := map[string]func() *http.Request{
		"a route": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/ok", nil) },
		"a route with a parameter": func() *http.Request {
			return httptest.NewRequest(http.MethodGet, "/items/42", nil)
		},
		"no route":       func() *http.Request { return httptest.NewRequest(http.MethodGet, "/nothing", nil) },
		"another method": func() *http.Request { return httptest.NewRequest(http.MethodDelete, "/ok", nil) },
		"a failure":      func() *http.Request { return httptest.NewRequest(http.MethodPost, "/boom", nil) },
		"a panic":        func() *http.Request { return httptest.NewRequest(http.MethodGet, "/panic", nil) },
		"a body too large": func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/echo", strings.NewReader(strings.Repeat("x", httpserver.BodyLimit+1)))
		},
		"answered before routing": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/ok", nil)
			r.Header.Set("X-Limit", "1")
			return r
		},
		"a browser's preflight": func() *http.Request {
			r := httptest.NewRequest(http.MethodOptions, "/echo", nil)
			r.Header.Set("Origin", "https://shop.example.com")
			r.Header.Set("Access-Control-Request-Method", "POST")
			return r
		},
		"a browser's request": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/ok", nil)
			r.Header.Set("Origin", "https://shop.example.com")
			return r
		},
		"over TLS": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/ok", nil)
			r.Header.Set("X-Forwarded-Proto", "https")
			return r
		},
		"a client's request id": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/ok", nil)
			r.Header.Set(echo.HeaderXRequestID, "abc-123")
			return r
		},
	}
	for name, req := range requests {
		t.Run(name, func(t *testing.T) {
			viaEcho, viaRouter = nil, nil
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			e.ServeHTTP(want, req())
			r.ServeHTTP(got, req())
			require.Equal(t, want.Code, got.Code)
			wantID, gotID := want.Header().Get(echo.HeaderXRequestID), got.Header().Get(echo.HeaderXRequestID)
			require.True(t, httpserver.PlainRequestID(gotID), "%q", gotID)
			if name == "a client's request id" {
				assert.Equal(t, "abc-123", gotID)
			}
			want.Header().Del(echo.HeaderXRequestID)
			got.Header().Del(echo.HeaderXRequestID)
			assert.Equal(t, want.Header(), got.Header())
			assert.Equal(t, strings.ReplaceAll(want.Body.String(), wantID, ""), strings.ReplaceAll(got.Body.String(), gotID, ""))
			assert.Equal(t, viaEcho, viaRouter, "the middleware ran in the same order, before and after routing")
		})
	}
	viaRouter = nil
	r.ServeHTTP(httptest.NewRecorder(), requests["a route"]())
	assert.Equal(t, []string{"pre1 ", "pre2 ", "use1 /ok", "use2 /ok", "handler"}, viaRouter)
}

// Middleware comes to the Router before it serves: afterwards it is
// refused, not silently left out.
func TestRouterRefusesLateMiddleware(t *testing.T) {
	r := httpserver.NewRouter(config.Config{}, quiet())
	require.NoError(t, r.Compose())
	pass := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	require.ErrorIs(t, r.Pre(pass), httpserver.ErrComposed)
	require.ErrorIs(t, r.Use(pass), httpserver.ErrComposed)
}

// Middleware registered on the Router's Echo itself would not run: the
// Router refuses to serve then (which also proves it can see echo's own
// lists), answering 500 rather than serving without it.
func TestRouterRefusesEchosOwnMiddleware(t *testing.T) {
	for name, register := range map[string]func(e *echo.Echo, mw echo.MiddlewareFunc){
		"Pre": func(e *echo.Echo, mw echo.MiddlewareFunc) { e.Pre(mw) },
		"Use": func(e *echo.Echo, mw echo.MiddlewareFunc) { e.Use(mw) },
	} {
		t.Run(name, func(t *testing.T) {
			r := httpserver.NewRouter(config.Config{}, quiet())
			r.Echo.GET("/ok", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			register(r.Echo, func(next echo.HandlerFunc) echo.HandlerFunc { return next })
			require.ErrorContains(t, r.Compose(), "echo holds middleware of its own")
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ok", nil))
			require.Equal(t, http.StatusInternalServerError, rec.Code)
		})
	}
	r := httpserver.NewRouter(config.Config{}, quiet())
	r.Echo.GET("/ok", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ok", nil)) // composes on the first request
	require.Equal(t, http.StatusNoContent, rec.Code)
}
