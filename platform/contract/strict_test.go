package contract_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// The three ways a caller reaches lab.
const (
	direct = "direct"
	strict = "strict"
	remote = "http"
)

// labWays returns lab as the module orders holds it: called directly
// in-process, strictly in-process (LOCAL_CALLS=strict: through the
// loopback of the process's server, with no socket), and over HTTP on
// loopback. The server is the one a process runs: its middleware, the
// service-credentials guard and the central error handler.
func labWays(t *testing.T) (map[string]lab, *contract.Registry) {
	t.Helper()
	e := httpserver.New(config.Config{}, quiet())
	e.Use(auth.NewJWTServiceAuth([]byte(secret), "lab").GuardInternal)
	labAPI.Serve(e, bench{})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f := transport.NewFactory(config.Config{Calls: testCalls()}, auth.NewJWTServiceAuth([]byte(secret), "orders"), quiet())
	strictReg := contract.NewRegistry(contract.Strict(f.Loopback(e)))
	return map[string]lab{
		direct: contract.ForCaller(labAPI.Local(bench{}, contract.NewRegistry()), "orders"),
		strict: contract.ForCaller(labAPI.Local(bench{}, strictReg), "orders"),
		remote: contract.ForCaller(labAPI.Remote(f.New("lab", srv.URL, errBroken), contract.NewRegistry()), "orders"),
	}, strictReg
}

// A callee that changes its input changes the caller's memory only in a
// direct call; strictly, as over HTTP, it changes its own copy.
func TestStrictCalleeChangesOnlyItsOwnCopy(t *testing.T) {
	ways, _ := labWays(t)
	for _, via := range []string{direct, strict, remote} {
		t.Run(via, func(t *testing.T) {
			in := numbers{Values: []int{3, 1, 2}, Tags: map[string]int{}}
			out, err := ways[via].Sort(context.Background(), in)
			require.NoError(t, err)
			assert.Equal(t, []int{1, 2, 3}, out.Values)
			if via == direct {
				assert.Equal(t, []int{1, 2, 3}, in.Values, "direct: the caller's slice was sorted under it")
				assert.Equal(t, map[string]int{"sorted": 1}, in.Tags, "direct: the caller's map was written")
				return
			}
			assert.Equal(t, []int{3, 1, 2}, in.Values)
			assert.Empty(t, in.Tags)
			out.Values[0] = 99
			assert.Equal(t, 3, in.Values[0], "nor does the answer share the request's memory")
		})
	}
}

// What JSON cannot carry passes a direct call and fails a strict one, as it
// fails over HTTP, with an error naming the method. An unexported field
// the caller set is silently lost over HTTP: strict mode says so.
func TestStrictRefusesWhatJSONCannotCarry(t *testing.T) {
	ways, _ := labWays(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		in     parcel
		strict string // in the strict error
		remote string // in the error over HTTP; "" when HTTP loses it silently
	}{
		"channel":    {parcel{Label: "a", Extra: make(chan struct{})}, "json: unsupported type: chan struct {}", "json: unsupported type: chan struct {}"},
		"function":   {parcel{Label: "a", Extra: func() {}}, "json: unsupported type: func()", "json: unsupported type: func()"},
		"NaN":        {parcel{Label: "a", Ratio: nan}, "json: unsupported value: NaN", "json: unsupported value: NaN"},
		"unexported": {parcel{Label: "a", note: "gift wrap"}, "request.note does not cross the wire", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ways[direct].Send(ctx, tc.in)
			require.NoError(t, err, "direct: nothing is encoded, nothing fails")
			assert.Equal(t, "a", got.Label)

			_, err = ways[strict].Send(ctx, tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "lab.Send: ")
			assert.Contains(t, err.Error(), tc.strict)

			got, err = ways[remote].Send(ctx, tc.in)
			if tc.remote == "" {
				require.NoError(t, err)
				assert.Empty(t, got.Note, "over HTTP the field is dropped without a word")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "lab.Send: ")
			assert.Contains(t, err.Error(), tc.remote)
		})
	}

	// An answer JSON cannot carry: the callee's server fails to encode it
	// and answers 500; the caller gets the generic error, named.
	r, err := ways[direct].Measure(ctx, numbers{})
	require.NoError(t, err)
	assert.NotEqual(t, r.Value, r.Value, "direct: the NaN arrives")
	for _, via := range []string{strict, remote} {
		_, err := ways[via].Measure(ctx, numbers{})
		require.Error(t, err, via)
		assert.Equal(t, problem.ErrInternal.Code, contract.Code(err), via)
		assert.Equal(t, "lab.Measure: Internal server error", err.Error(), via)
	}
}

// An error reaches a strict caller only as its coded problem, decoded into
// the contract's sentinel: an error outside the contract's list arrives
// as the same generic error it would over HTTP, and an uncoded one as the
// bare internal error, its text left on the callee's side.
func TestStrictErrorsCrossAsTheirProblem(t *testing.T) {
	ways, _ := labWays(t)
	ctx := context.Background()

	for _, via := range []string{direct, strict, remote} {
		_, err := ways[via].Fail(ctx, failure{Kind: "listed"})
		require.ErrorIs(t, err, errBroken, via)
	}

	_, err := ways[direct].Fail(ctx, failure{Kind: "elsewhere"})
	require.ErrorIs(t, err, errElsewhere, "direct: the sentinel itself, which no wire carries")
	_, err = ways[direct].Fail(ctx, failure{Kind: "plain"})
	assert.Contains(t, err.Error(), "disk on fire", "direct: the callee's internal text reaches the caller")

	errs := map[string][2]error{}
	for _, via := range []string{strict, remote} {
		_, elsewhere := ways[via].Fail(ctx, failure{Kind: "elsewhere"})
		require.Error(t, elsewhere)
		assert.NotErrorIs(t, elsewhere, errElsewhere, via)
		assert.Equal(t, errElsewhere.Code, contract.Code(elsewhere), "the code crosses, the identity does not")
		_, plain := ways[via].Fail(ctx, failure{Kind: "plain"})
		require.Error(t, plain)
		assert.Equal(t, problem.ErrInternal.Code, contract.Code(plain))
		assert.NotContains(t, plain.Error(), "disk on fire", via)
		errs[via] = [2]error{elsewhere, plain}
	}
	for i := range 2 {
		assert.Equal(t, errs[remote][i].Error(), errs[strict][i].Error(), "strict fails as HTTP does")
	}
}

// The callee sees what a remote callee sees: the caller from its service
// credentials, the deadline from its header (CALL_TIMEOUT when the caller
// sets none), and nothing else of the caller's context.
func TestStrictCalleeSeesTheWiresContext(t *testing.T) {
	ways, reg := labWays(t)
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), markKey{}, true), 2*time.Second)
	defer cancel()

	got, err := ways[direct].Send(ctx, parcel{Label: "a"})
	require.NoError(t, err)
	assert.True(t, got.Marked, "direct: the caller's context is the callee's")
	assert.Empty(t, got.Caller, "direct: no credentials, no caller")

	for _, via := range []string{strict, remote} {
		got, err := ways[via].Send(ctx, parcel{Label: "a"})
		require.NoError(t, err)
		assert.False(t, got.Marked, via)
		assert.Equal(t, "orders", got.Caller, via)
		assert.Greater(t, got.Budget, time.Duration(0), via)
		assert.LessOrEqual(t, got.Budget, 2*time.Second, via)

		got, err = ways[via].Send(context.Background(), parcel{Label: "a"})
		require.NoError(t, err)
		assert.Greater(t, got.Budget, 2*time.Second, "%s: CALL_TIMEOUT bounds a call without a deadline", via)
		assert.LessOrEqual(t, got.Budget, testCalls().Timeout, via)
	}

	found := false
	for _, c := range reg.Counts() {
		if c.Caller == "orders" && c.Method == "Send" {
			found = true
			assert.Equal(t, contract.TransportLocal, c.Transport, "a strict call is an in-process edge")
			assert.Equal(t, uint64(2), c.Calls)
		}
	}
	require.True(t, found, "the edge orders → Send is counted")
}

// A strict stub never takes the direct shortcut, so the module's stub
// methods go through Call and the loopback.
func TestStrictStubsHaveNoShortcut(t *testing.T) {
	f := transport.NewFactory(config.Config{Calls: testCalls()}, nil, quiet())
	s := labAPI.Local(bench{}, contract.NewRegistry(contract.Strict(f.Loopback(echo.New()))))
	_, fast := s.(labStub).Local()
	assert.False(t, fast)
	_, fast = labAPI.Local(bench{}, contract.NewRegistry(contract.Strict(nil))).(labStub).Local()
	assert.True(t, fast, "Strict(nil) leaves calls direct")
}
