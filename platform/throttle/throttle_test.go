package throttle_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
	"mitosis/platform/throttle"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]throttle.Rate{
		"20/s burst 40":   {Events: 20, Per: time.Second, Burst: 40},
		"5/m":             {Events: 5, Per: time.Minute, Burst: 5},
		"100/10s burst 3": {Events: 100, Per: 10 * time.Second, Burst: 3},
		" 1/H ":           {Events: 1, Per: time.Hour, Burst: 1},
		"off":             {Off: true},
	} {
		got, err := throttle.ParseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "20", "0/s", "-1/s", "20/fortnight", "20/s burst", "20/s burst 0", "20/s limit 4", "20/0s"} {
		_, err := throttle.ParseRate(in)
		require.Error(t, err, "%q", in)
	}
}

// Each key has its own bucket: past its burst a request is refused with
// Retry-After until a token is back, and the RateLimit-* headers say where
// the bucket stands.
func TestCheckRefusesPastTheBurst(t *testing.T) {
	r, err := throttle.ParseRate("2/m")
	require.NoError(t, err)
	b := throttle.NewBuckets(r)
	now := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		h := http.Header{}
		require.NoError(t, b.Check(h, "ip:10.0.0.1", "the login", now), "request %d", i+1)
		require.Equal(t, "2", h.Get(throttle.HeaderLimit))
		require.Empty(t, h.Get("Retry-After"))
	}
	h := http.Header{}
	err = b.Check(h, "ip:10.0.0.1", "the login", now)
	require.ErrorIs(t, err, throttle.ErrRateLimited)
	var coded *problem.Error
	require.True(t, errors.As(err, &coded))
	require.Equal(t, http.StatusTooManyRequests, problem.From(err).Status)
	require.Contains(t, err.Error(), "on the login")
	require.Equal(t, "30", h.Get("Retry-After"), "a token every 30s")
	require.Equal(t, "0", h.Get(throttle.HeaderRemaining))

	require.NoError(t, b.Check(http.Header{}, "ip:10.0.0.2", "the login", now), "another key, another bucket")
	require.NoError(t, b.Check(http.Header{}, "ip:10.0.0.1", "the login", now.Add(30*time.Second)), "one token back")
}

// A bucket idle long enough to be full again is forgotten.
func TestIdleBucketsAreForgotten(t *testing.T) {
	b := throttle.NewBuckets(throttle.Rate{Events: 3, Per: time.Minute, Burst: 3})
	now := time.Unix(1_700_000_000, 0)
	b.Take("a", now)
	b.Take("b", now)
	require.Equal(t, 2, b.Len())
	b.Take("c", now.Add(time.Minute))
	require.Equal(t, 1, b.Len(), "only the bucket just used is kept")
}
