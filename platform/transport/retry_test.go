package transport_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

func greet(ctx context.Context, c *transport.Client, safety transport.Safety) (echoOut, error) {
	return invoke[echoOut](ctx, c, safety, http.MethodPost, "/greet", echoIn{Name: "ada"})
}

func TestCallsSafeToRepeatAreRetriedThroughTransientFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		safety transport.Safety
		script []int
	}{
		"read after two 503s":         {transport.Read, []int{503, 503, 200}},
		"read after a reset and 504":  {transport.Read, []int{reset, 504, 200}},
		"keyed write after a 502":     {transport.Keyed("order-1"), []int{502, 200}},
		"idempotent write after 503s": {transport.Idempotent, []int{503, 503, 200}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, tc.script...)
			out, err := greet(context.Background(), newClient(srv.URL, testCalls()), tc.safety)
			require.NoError(t, err)
			assert.Equal(t, "hello", out.Greeting)
			assert.Equal(t, len(tc.script), srv.count())
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv := newScripted(t, 503)
	_, err := greet(context.Background(), newClient(srv.URL, testCalls()), transport.Read)
	require.ErrorIs(t, err, problem.ErrUnavailable)
	assert.Equal(t, 3, srv.count(), "one attempt and CALL_RETRIES=2 more")
}

func TestUnsafeCallsAreAttemptedOnce(t *testing.T) {
	for name, safety := range map[string]transport.Safety{
		"unsafe":            transport.Unsafe,
		"write without key": transport.Keyed(""),
	} {
		for _, first := range []int{503, reset} {
			t.Run(name, func(t *testing.T) {
				srv := newScripted(t, first, 200)
				_, err := greet(context.Background(), newClient(srv.URL, testCalls()), safety)
				require.ErrorIs(t, err, problem.ErrUnavailable)
				assert.Equal(t, 1, srv.count())
			})
		}
	}
}

func TestAnswersThatWillNotChangeAreNotRetried(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		want   error
	}{
		"domain 409": {http.StatusConflict, errSoldOut},
		"500":        {http.StatusInternalServerError, problem.ErrUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newScripted(t, tc.status, 200)
			_, err := greet(context.Background(), newClient(srv.URL, testCalls()), transport.Read)
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, 1, srv.count())
		})
	}
}

func TestRetriesStopAtTheCallersDeadline(t *testing.T) {
	srv := newScripted(t, 503)
	calls := testCalls()
	calls.Retries, calls.Backoff = 10, 40*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := greet(ctx, newClient(srv.URL, calls), transport.Read)
	require.ErrorIs(t, err, problem.ErrUnavailable, "the last failure, not a bare timeout")
	assert.Less(t, time.Since(start), 500*time.Millisecond)
	assert.GreaterOrEqual(t, srv.count(), 2, "it did retry while there was time")
	assert.Less(t, srv.count(), 11)
}

func TestRetriesStopWhenTheCallerGivesUp(t *testing.T) {
	srv := newScripted(t, 503)
	calls := testCalls()
	calls.Retries, calls.Backoff = 10, 100*time.Millisecond
	c := newClient(srv.URL, calls)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		assert.Eventually(t, func() bool { return srv.count() >= 1 }, 5*time.Second, time.Millisecond)
		cancel()
	}()
	start := time.Now()
	_, err := greet(ctx, c, transport.Read)
	require.Error(t, err)
	// Ten pauses would take seconds; a cancelled caller waits for none.
	assert.Less(t, time.Since(start), time.Second)
}
