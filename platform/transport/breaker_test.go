package transport_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

func breakerCalls() config.Calls {
	calls := testCalls()
	calls.Retries, calls.BreakerFailures, calls.BreakerCooldown = 0, 3, 250*time.Millisecond
	return calls
}

func TestTheBreakerOpensFailsFastAndClosesAfterAProbe(t *testing.T) {
	ctx := context.Background()
	srv := newScripted(t, 503)
	c := newClient(srv.URL, breakerCalls())

	for range 3 {
		_, err := greet(ctx, c, transport.Read)
		require.ErrorIs(t, err, problem.ErrUnavailable)
		require.NotErrorIs(t, err, transport.ErrCircuitOpen)
	}
	assert.Equal(t, "open", c.CircuitState())

	var refused error
	for range 5 {
		start := time.Now()
		_, refused = greet(ctx, c, transport.Read)
		require.ErrorIs(t, refused, transport.ErrCircuitOpen)
		require.ErrorIs(t, refused, problem.ErrUnavailable)
		assert.Less(t, time.Since(start), 100*time.Millisecond)
	}
	assert.Equal(t, 3, srv.count(), "an open breaker sends nothing")

	d := problem.From(refused) // what the API answers
	assert.Equal(t, http.StatusServiceUnavailable, d.Status)
	assert.Equal(t, problem.ErrUnavailable.Code, d.Code)
	assert.Contains(t, d.Detail, "circuit open")

	// After the cool-down a failing probe opens it again...
	require.Eventually(t, func() bool { return c.CircuitState() == "half-open" }, 5*time.Second, 5*time.Millisecond)
	_, err := greet(ctx, c, transport.Read)
	require.NotErrorIs(t, err, transport.ErrCircuitOpen)
	assert.Equal(t, "open", c.CircuitState())
	assert.Equal(t, 4, srv.count())

	// ...and a succeeding one closes it.
	srv.play(200)
	require.Eventually(t, func() bool { return c.CircuitState() == "half-open" }, 5*time.Second, 5*time.Millisecond)
	_, err = greet(ctx, c, transport.Read)
	require.NoError(t, err)
	assert.Equal(t, "closed", c.CircuitState())
	_, err = greet(ctx, c, transport.Read)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.count())
}

func TestDomainErrorsDoNotTripTheBreaker(t *testing.T) {
	srv := newScripted(t, http.StatusConflict)
	c := newClient(srv.URL, breakerCalls())
	for range 10 {
		_, err := greet(context.Background(), c, transport.Read)
		require.ErrorIs(t, err, errSoldOut)
	}
	assert.Equal(t, "closed", c.CircuitState())
	assert.Equal(t, 10, srv.count())
}

func TestASuccessResetsTheFailureCount(t *testing.T) {
	srv := newScripted(t, 503, 503, 200, 503, 503, 200)
	c := newClient(srv.URL, breakerCalls())
	for range 6 {
		_, _ = greet(context.Background(), c, transport.Read)
	}
	assert.Equal(t, "closed", c.CircuitState(), "failures must be consecutive")
}

func TestAnOpenCircuitIsNotRetried(t *testing.T) {
	srv := newScripted(t, 503)
	calls := breakerCalls()
	calls.Retries = 5
	c := newClient(srv.URL, calls)
	_, err := greet(context.Background(), c, transport.Read)
	require.ErrorIs(t, err, transport.ErrCircuitOpen, "the fourth attempt met the open breaker and stopped")
	assert.Equal(t, 3, srv.count())
}

func TestTheFactoryListsEveryCircuit(t *testing.T) {
	srv := newScripted(t, 503)
	f := transport.NewFactory(config.Config{Calls: breakerCalls()}, nil, quiet())
	f.New("users", srv.URL)
	payments := f.New("payments", srv.URL)
	for range 3 {
		_, _ = greet(context.Background(), payments, transport.Read)
	}
	assert.Equal(t, []transport.Circuit{
		{Module: "payments", URL: srv.URL, State: "open", Slots: 64},
		{Module: "users", URL: srv.URL, State: "closed", Slots: 64},
	}, f.Circuits())
}

func TestClientsOfOneModuleShareItsBreaker(t *testing.T) {
	srv := newScripted(t, 503)
	f := transport.NewFactory(config.Config{Calls: breakerCalls()}, nil, quiet())
	for range 3 {
		_, _ = greet(context.Background(), f.New("shop", srv.URL), transport.Read)
	}
	_, err := greet(context.Background(), f.New("shop", srv.URL), transport.Read)
	require.ErrorIs(t, err, transport.ErrCircuitOpen)
	assert.Len(t, f.Circuits(), 1)
}

// TestAnExpiredDeadlineIsNotTheCalleesFailure: a caller whose deadline has
// passed gets the deadline's error before the breaker is asked, so however
// many such calls come, the module's breaker stays closed for the others;
// and with the breaker open, such a caller still learns that its own time
// ran out, not that the circuit is open.
func TestAnExpiredDeadlineIsNotTheCalleesFailure(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-expired.Done()

	t.Run("it never opens the breaker", func(t *testing.T) {
		srv := newScripted(t, 200)
		c := newClient(srv.URL, breakerCalls())
		for _, safety := range []transport.Safety{transport.Read, transport.Unsafe, transport.Keyed("k"), transport.Read, transport.Read} {
			_, err := greet(expired, c, safety)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotErrorIs(t, err, transport.ErrCircuitOpen)
		}
		assert.Equal(t, "closed", c.CircuitState())
		assert.Zero(t, srv.count(), "nothing was sent for a caller out of time")

		out, err := greet(context.Background(), c, transport.Read)
		require.NoError(t, err, "the module is fine for a caller with time left")
		assert.Equal(t, "hello", out.Greeting)
	})

	t.Run("an open breaker does not hide it", func(t *testing.T) {
		srv := newScripted(t, 503)
		c := newClient(srv.URL, breakerCalls())
		for range 3 {
			_, _ = greet(context.Background(), c, transport.Read)
		}
		require.Equal(t, "open", c.CircuitState())
		_, err := greet(expired, c, transport.Read)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, transport.ErrCircuitOpen)
	})
}

// TestAClientsDeadlineDoesNotCountAgainstTheCallee: a deadline that runs
// out during a call is the callee's failure when it is a module's (our
// CALL_TIMEOUT, or a budget a module passed on), but not when a client
// outside chose it (transport.ErrClientDeadline, as a public route marks
// X-Deadline-Ms): a client's short deadline never opens the breaker for
// everyone else.
func TestAClientsDeadlineDoesNotCountAgainstTheCallee(t *testing.T) {
	short := func(cause error) (context.Context, context.CancelFunc) {
		return context.WithTimeoutCause(context.Background(), 20*time.Millisecond, cause)
	}
	t.Run("a client's short deadline", func(t *testing.T) {
		srv := newScripted(t, stall)
		c := newClient(srv.URL, breakerCalls())
		for range 5 {
			ctx, cancel := short(transport.ErrClientDeadline)
			_, err := greet(ctx, c, transport.Read)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.Equal(t, "closed", c.CircuitState())
		srv.play(200)
		_, err := greet(context.Background(), c, transport.Read)
		require.NoError(t, err)
	})

	t.Run("a module's budget", func(t *testing.T) {
		srv := newScripted(t, stall)
		c := newClient(srv.URL, breakerCalls())
		for range 3 {
			ctx, cancel := short(nil)
			_, err := greet(ctx, c, transport.Read)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.Equal(t, "open", c.CircuitState(), "a callee slower than a module allows is unwell")
	})

	t.Run("CALL_TIMEOUT", func(t *testing.T) {
		srv := newScripted(t, stall)
		calls := breakerCalls()
		calls.Timeout = 20 * time.Millisecond
		c := newClient(srv.URL, calls)
		for range 3 {
			_, err := greet(context.Background(), c, transport.Read)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.Equal(t, "open", c.CircuitState())
		_, err := greet(context.Background(), c, transport.Read)
		require.ErrorIs(t, err, transport.ErrCircuitOpen)
	})
}
