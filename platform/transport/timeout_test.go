package transport_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/transport"
)

// deadlineSeen is what the callee saw: the raw header and its own context.
type deadlineSeen struct {
	HeaderMs int64 `json:"header_ms"` // -1: no header
	CtxMs    int64 `json:"ctx_ms"`    // -1: no deadline
}

// TestCallTimeoutCapsTheCallersDeadline: CALL_TIMEOUT bounds every call. A
// caller with no deadline, or a longer one, gets at most CALL_TIMEOUT, and
// the callee sees that budget through the deadline header; a shorter
// caller's deadline passes as it is. A slow callee is cut at CALL_TIMEOUT.
func TestCallTimeoutCapsTheCallersDeadline(t *testing.T) {
	const callTimeout = 400 * time.Millisecond
	base := server(t, func(e *echo.Echo) {
		e.GET("/deadline", func(c echo.Context) error {
			seen := deadlineSeen{HeaderMs: -1, CtxMs: -1}
			if raw := c.Request().Header.Get(transport.DeadlineHeader); raw != "" {
				ms, err := strconv.ParseInt(raw, 10, 64)
				if err != nil {
					return err
				}
				seen.HeaderMs = ms
			}
			if dl, ok := c.Request().Context().Deadline(); ok {
				seen.CtxMs = time.Until(dl).Milliseconds()
			}
			return c.JSON(http.StatusOK, seen)
		})
		e.GET("/slow", func(c echo.Context) error {
			<-c.Request().Context().Done()
			return c.Request().Context().Err()
		})
	}).BaseURL()
	calls := testCalls()
	calls.Timeout, calls.Retries = callTimeout, 0
	c := newClient(base, calls)

	long, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	short, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	cases := []struct {
		name     string
		ctx      context.Context
		atMostMs int64
	}{
		{"no deadline", context.Background(), callTimeout.Milliseconds()},
		{"a longer deadline", long, callTimeout.Milliseconds()},
		{"a shorter deadline", short, 150},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := invoke[deadlineSeen](tc.ctx, c, transport.Read, http.MethodGet, "/deadline", nil)
			require.NoError(t, err)
			assert.Positive(t, out.HeaderMs)
			assert.LessOrEqual(t, out.HeaderMs, tc.atMostMs, "the budget the callee is told")
			assert.Positive(t, out.CtxMs)
			assert.LessOrEqual(t, out.CtxMs, tc.atMostMs, "the callee's own deadline")
		})
	}

	t.Run("a slow callee is cut at CALL_TIMEOUT", func(t *testing.T) {
		start := time.Now()
		err := c.Call(long, transport.Read, http.MethodGet, "/slow", nil, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, callTimeout)
		assert.Less(t, elapsed, callTimeout+2*time.Second, "not the caller's hour")
	})
}
