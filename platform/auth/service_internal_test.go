package auth

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
)

// TestAVerifiedServiceTokenIsKeptOnlyWhileItHolds: the server remembers
// a token that passed, for its callee and until it expires, never longer.
func TestAVerifiedServiceTokenIsKeptOnlyWhileItHolds(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	caller := NewJWTServiceAuth([]byte("0123456789abcdef0123456789abcdef"), "orders")
	server := NewJWTServiceAuth([]byte("0123456789abcdef0123456789abcdef"), "payments")
	caller.now, server.now = now, now

	h := http.Header{}
	require.NoError(t, caller.Apply(h, "", "payments"))
	verify := func(callee string) (string, error) {
		req := httptest.NewRequest(http.MethodPost, "/internal/"+callee+"/x", nil)
		req.Header = h
		return server.verify(echo.New().NewContext(req, httptest.NewRecorder()), callee)
	}
	for range 2 { // parsed, then remembered
		got, err := verify("payments")
		require.NoError(t, err)
		assert.Equal(t, "orders", got)
	}
	assert.Len(t, server.verified, 1)
	_, err := verify("users")
	require.ErrorIs(t, err, problem.ErrUnauthorized, "remembered for its callee only")

	clock.Add(int64(serviceTTL + leeway + time.Second))
	_, err = verify("payments")
	require.ErrorIs(t, err, problem.ErrUnauthorized, "an expired token is refused though it passed before")
	assert.Empty(t, server.verified, "and forgotten")
}
