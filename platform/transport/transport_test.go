package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

var errSoldOut = problem.New("shop.sold_out", http.StatusConflict, "Sold out")

type echoIn struct {
	Name string `json:"name"`
}

type echoOut struct {
	Greeting   string `json:"greeting"`
	DeadlineMs int64  `json:"deadline_ms"`
}

func server(t *testing.T, mount func(e *echo.Echo)) *transport.Client {
	t.Helper()
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return newClient(srv.URL, testCalls())
}

func TestRoundTrip(t *testing.T) {
	c := server(t, func(e *echo.Echo) {
		e.POST("/greet", transport.Handle(func(_ context.Context, in echoIn) (echoOut, error) {
			return echoOut{Greeting: "hello " + in.Name}, nil
		}))
	})
	out, err := invoke[echoOut](context.Background(), c, transport.Read, http.MethodPost, "/greet", echoIn{Name: "ada"})
	require.NoError(t, err)
	assert.Equal(t, "hello ada", out.Greeting)
}

// TestACallsHeaders: a call says what it sends and accepts and how long
// the callee has, and sends no User-Agent (net/http's default names no
// one; the credentials name the caller).
func TestACallsHeaders(t *testing.T) {
	var seen http.Header
	c := server(t, func(e *echo.Echo) {
		e.POST("/greet", func(c echo.Context) error {
			seen = c.Request().Header.Clone()
			return c.JSON(http.StatusOK, echoOut{Greeting: "hello"})
		})
	})
	_, err := invoke[echoOut](context.Background(), c, transport.Read, http.MethodPost, "/greet", echoIn{Name: "ada"})
	require.NoError(t, err)
	assert.Equal(t, "application/json", seen.Get("Content-Type"))
	assert.Equal(t, "application/json", seen.Get("Accept"))
	assert.NotEmpty(t, seen.Get(transport.DeadlineHeader))
	assert.NotContains(t, seen, "User-Agent")
}

func TestErrorsKeepTheirIdentity(t *testing.T) {
	c := server(t, func(e *echo.Echo) {
		e.POST("/sold-out", transport.Handle(func(context.Context, echoIn) (echoOut, error) {
			return echoOut{}, fmt.Errorf("%w: only 0 left", errSoldOut)
		}))
		e.POST("/invalid", transport.Handle(func(context.Context, echoIn) (echoOut, error) {
			return echoOut{}, problem.Invalid("name", "is required")
		}))
		e.POST("/boom", transport.Handle(func(context.Context, echoIn) (echoOut, error) {
			return echoOut{}, errors.New("secret internal detail")
		}))
		e.POST("/panic", func(echo.Context) error { panic("secret panic detail") })
	})
	ctx := context.Background()

	err := c.Call(ctx, transport.Read, http.MethodPost, "/sold-out", echoIn{}, nil)
	require.ErrorIs(t, err, errSoldOut)
	assert.Contains(t, err.Error(), "only 0 left")

	err = c.Call(ctx, transport.Read, http.MethodPost, "/invalid", echoIn{}, nil)
	require.ErrorIs(t, err, problem.ErrValidation)
	var ve *problem.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "name", ve.Fields[0].Field)

	for _, path := range []string{"/boom", "/panic"} {
		err = c.Call(ctx, transport.Read, http.MethodPost, path, echoIn{}, nil)
		require.ErrorIs(t, err, problem.ErrInternal)
		assert.NotContains(t, err.Error(), "secret")
	}

	err = c.Call(ctx, transport.Read, http.MethodGet, "/nowhere", nil, nil)
	require.ErrorIs(t, err, problem.ErrNotFound)

	err = c.Call(ctx, transport.Read, http.MethodGet, "/sold-out", nil, nil)
	require.ErrorIs(t, err, problem.ErrMethodNotAllowed)
}

func TestTheCallersDeadlineCrossesTheWire(t *testing.T) {
	c := server(t, func(e *echo.Echo) {
		e.POST("/deadline", transport.Handle(func(ctx context.Context, _ echoIn) (echoOut, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				return echoOut{DeadlineMs: -1}, nil
			}
			return echoOut{DeadlineMs: time.Until(dl).Milliseconds()}, nil
		}))
		e.POST("/slow", transport.Handle(func(ctx context.Context, _ echoIn) (echoOut, error) {
			<-ctx.Done()
			return echoOut{}, ctx.Err()
		}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	out, err := invoke[echoOut](ctx, c, transport.Read, http.MethodPost, "/deadline", echoIn{})
	require.NoError(t, err)
	assert.Positive(t, out.DeadlineMs)
	assert.LessOrEqual(t, out.DeadlineMs, int64(800), "the callee sees the caller's budget, not its own default")

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Call(ctx, transport.Read, http.MethodPost, "/slow", echoIn{}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestCancellationReachesTheCallee(t *testing.T) {
	seen := make(chan error, 1)
	started := make(chan struct{})
	c := server(t, func(e *echo.Echo) {
		e.POST("/wait", transport.Handle(func(ctx context.Context, _ echoIn) (echoOut, error) {
			close(started)
			<-ctx.Done()
			seen <- ctx.Err()
			return echoOut{}, ctx.Err()
		}))
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	err := c.Call(ctx, transport.Read, http.MethodPost, "/wait", echoIn{}, nil)
	require.ErrorIs(t, err, context.Canceled)
	select {
	case err := <-seen:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the callee never saw the cancellation")
	}
}

func TestUnreachableModuleIsUnavailable(t *testing.T) {
	c := newClient("http://127.0.0.1:1", testCalls())
	err := c.Call(context.Background(), transport.Read, http.MethodGet, "/health/live", nil, nil)
	require.ErrorIs(t, err, problem.ErrUnavailable)
}

func TestBindRefusesBadInput(t *testing.T) {
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.POST("/in", func(c echo.Context) error {
		var in struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
			Items []struct {
				SKU string `json:"sku"`
			} `json:"items"`
		}
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	for name, tc := range map[string]struct {
		contentType, body string
		status            int
		field             string
	}{
		"ok":               {"application/json", `{"name":"a","count":1}`, 204, ""},
		"unknown field":    {"application/json", `{"nam":"a"}`, 400, "nam"},
		"wrong type":       {"application/json", `{"count":"x"}`, 400, "count"},
		"too big":          {"application/json", `{"count":99999999999999999999}`, 400, "count"},
		"malformed":        {"application/json", `{"name":`, 400, "body"},
		"empty":            {"application/json", ``, 400, "body"},
		"two values":       {"application/json", `{} {}`, 400, "body"},
		"not json":         {"text/plain", `{}`, 415, ""},
		"duplicate key":    {"application/json", `{"name":"a","count":1,"name":"b"}`, 400, "name"},
		"nested dup":       {"application/json", `{"items":[{"sku":"a"},{"sku":"b","sku":"c"}]}`, 400, "items[1].sku"},
		"same key apart":   {"application/json", `{"items":[{"sku":"a"},{"sku":"b"}],"name":"x"}`, 204, ""},
		"NUL":              {"application/json", `{"name":"a\u0000b"}`, 400, "name"},
		"empty name":       {"application/json", `{"":"x"}`, 400, "body"},
		"empty name twice": {"application/json", `{"":"x","":"y"}`, 400, "body"},
		"NUL, empty name":  {"application/json", `{"":"\u0000"}`, 400, "body"},
		"nested NUL":       {"application/json", `{"items":[{"sku":"ok"},{"sku":"\u0000"}]}`, 400, "items[1].sku"},
		"oversized":        {"application/json", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, ""},
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/in", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status >= 400 {
				assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			}
			if tc.field != "" {
				assert.Contains(t, rec.Body.String(), `"field":"`+tc.field+`"`)
			}
		})
	}
}

func TestServerFailuresKeepInternalsOutOfTheAnswer(t *testing.T) {
	for name, tc := range map[string]struct {
		err        error
		wantDetail string
	}{
		"plain":  {fmt.Errorf("%w: dial tcp 10.0.0.7:5432: refused", problem.ErrUnavailable), ""},
		"public": {problem.WithDetail(fmt.Errorf("%w: dial tcp 10.0.0.7:8080", problem.ErrUnavailable), "payments is unavailable"), "payments is unavailable"},
		"client": {fmt.Errorf("%w: only 0 left", errSoldOut), "charge order: Sold out: only 0 left"},
	} {
		t.Run(name, func(t *testing.T) {
			d := problem.From(fmt.Errorf("charge order: %w", tc.err))
			assert.Equal(t, tc.wantDetail, d.Detail)
			assert.NotContains(t, d.Detail, "10.0.0.7")
		})
	}
}

// invoke calls one method and decodes its answer into a new Out.
func invoke[Out any](ctx context.Context, c *transport.Client, safety transport.Safety, method, path string, in any) (Out, error) {
	var out Out
	err := c.Call(ctx, safety, method, path, in, &out)
	return out, err
}

// TestARedirectIsNotFollowed: a module call goes to the module configured,
// never where an answer points.
func TestARedirectIsNotFollowed(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the redirect was followed")
	}))
	t.Cleanup(elsewhere.Close)
	c := server(t, func(e *echo.Echo) {
		e.POST("/moved", func(c echo.Context) error { return c.Redirect(http.StatusTemporaryRedirect, elsewhere.URL+"/x") })
	})
	err := c.Call(context.Background(), transport.Read, http.MethodPost, "/moved", echoIn{}, nil)
	require.ErrorIs(t, err, problem.ErrBadRequest)
	assert.Contains(t, err.Error(), "remote answered 307")
}
