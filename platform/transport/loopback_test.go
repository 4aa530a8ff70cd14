package transport_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/transport"
)

// A loopback client's call is served by the process's own handler, with
// the deadline and the errors of a remote call, and has no breaker: none
// is listed, and its state reads closed.
func TestALoopbackCallIsServedByTheOwnHandler(t *testing.T) {
	e := httpserver.New(config.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.POST("/internal/shop/greet", transport.Handle(func(ctx context.Context, in echoIn) (echoOut, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return echoOut{}, errSoldOut
		}
		return echoOut{Greeting: "hello " + in.Name, DeadlineMs: dl.UnixMilli()}, nil
	}))
	e.POST("/internal/shop/sold-out", transport.Handle(func(context.Context, echoIn) (echoOut, error) {
		return echoOut{}, errSoldOut
	}))
	f := transport.NewFactory(config.Config{Calls: testCalls()}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := f.Loopback(e).Client("shop", errSoldOut)

	out, err := invoke[echoOut](context.Background(), c, transport.Read, http.MethodPost, "/internal/shop/greet", echoIn{Name: "ada"})
	require.NoError(t, err)
	assert.Equal(t, "hello ada", out.Greeting)
	assert.Positive(t, out.DeadlineMs, "the deadline crossed as its header")

	_, err = invoke[echoOut](context.Background(), c, transport.Read, http.MethodPost, "/internal/shop/sold-out", echoIn{})
	require.ErrorIs(t, err, errSoldOut)

	assert.Equal(t, transport.InProcessURL, c.BaseURL())
	assert.Equal(t, "closed", c.CircuitState())
	assert.Empty(t, f.Circuits(), "no breaker guards a module of this process")
}
