package contract_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/httpserver"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
	"mitosis/platform/transport"
)

var sinkReceipt receipt

// BenchmarkLocalCall compares a direct call with the stub in-process:
// untraced, with TRACING=off (the fast path, the same as untraced), and
// traced at rate 1 (an INTERNAL span per call, exported in the background
// to an endpoint that discards it).
func BenchmarkLocalCall(b *testing.B) {
	impl := &store{}
	off, err := telemetry.New(telemetry.Settings{Tracing: config.Tracing{Exporter: config.TracingOff, SampleRate: 1}})
	require.NoError(b, err)
	sampled, err := telemetry.New(telemetry.Settings{Tracing: config.Tracing{
		Exporter: config.TracingOTLP, SampleRate: 1, OTLPEndpoint: telemetrytest.Discard(b)}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = sampled.Shutdown(context.Background()) })
	s := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry()), "orders")
	sOff := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry(contract.Traced(off))), "orders")
	sTraced := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry(contract.Traced(sampled))), "orders")
	direct := opaque(impl)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   buyRequest
	}{{"ok", buyRequest{SKU: "tea"}}, {"sentinel", buyRequest{SKU: "gone"}}} {
		b.Run(tc.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkReceipt, _ = direct.Buy(ctx, tc.in)
			}
		})
		b.Run(tc.name+"/stub", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkReceipt, _ = s.Buy(ctx, tc.in)
			}
		})
		b.Run(tc.name+"/stub-tracing-off", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				sinkReceipt, _ = sOff.Buy(ctx, tc.in)
			}
			report()
		})
		b.Run(tc.name+"/stub-traced", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				sinkReceipt, _ = sTraced.Buy(ctx, tc.in)
			}
			report()
		})
	}
}

// opaque returns s as a shop whose type the compiler does not see, so that
// the direct way is the interface call a consumer makes (a *store in sight
// would be called without its method table), as the stubs' callers do.
//
//go:noinline
func opaque(s shop) shop { return s }

// cpuTime reports, when the returned func is called after the loop, the
// process's CPU time per iteration ("cpu-ns/op"): every goroutine's, the
// span exporter's included, which a busy machine distorts less than wall
// time.
func cpuTime(b *testing.B) func() {
	b.Helper()
	start := processCPU(b)
	return func() { b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStrictCall puts the strict in-process call (LOCAL_CALLS=strict:
// the HTTP path through the server's own handler, without a socket) beside
// the direct stub and the HTTP call on loopback, on the same server: echo
// with the process's middleware, the service-credentials guard and the
// error handler. "ok" answers a receipt; "sentinel" fails with the
// contract's coded error, decoded back into it.
func BenchmarkStrictCall(b *testing.B) {
	impl := &store{}
	e := httpserver.New(config.Config{}, quiet())
	e.Use(auth.NewJWTServiceAuth([]byte(secret), "shop").GuardInternal)
	shopAPI.Serve(e, impl)
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)
	f := transport.NewFactory(config.Config{Calls: testCalls()}, auth.NewJWTServiceAuth([]byte(secret), "orders"), quiet())
	ways := []struct {
		name string
		svc  shop
	}{
		{"stub", contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry()), "orders")},
		{"strict", contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry(contract.Strict(f.Loopback(e)))), "orders")},
		{"http", contract.ForCaller(shopAPI.Remote(f.New("shop", srv.URL, errSoldOut), contract.NewRegistry()), "orders")},
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   buyRequest
	}{{"ok", buyRequest{SKU: "tea"}}, {"sentinel", buyRequest{SKU: "gone"}}} {
		for _, w := range ways {
			b.Run(tc.name+"/"+w.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sinkReceipt, _ = w.svc.Buy(ctx, tc.in)
				}
			})
		}
	}
}

// BenchmarkRecordedCall is the in-process call while requests are
// recorded (RecordEvery): inside a recorded request (timed, sized, added
// to the request's record), and outside one while another is in flight
// (timed only). Neither is the common case: calls of requests that are
// not recorded, with none in flight, take the fast path of
// BenchmarkLocalCall/ok/stub.
func BenchmarkRecordedCall(b *testing.B) {
	reg := contract.NewRegistry(contract.RecordEvery(1))
	s := contract.ForCaller(shopAPI.Local(&store{}, reg), "orders")
	in := buyRequest{SKU: "tea"}
	e := echo.New()
	e.Use(reg.Record)
	run := func(b *testing.B, loop func(ctx context.Context)) {
		e.POST("/bench", func(c echo.Context) error {
			loop(c.Request().Context())
			return c.NoContent(http.StatusNoContent)
		})
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/bench", nil))
	}
	b.Run("in-recorded-request", func(b *testing.B) {
		b.ReportAllocs()
		run(b, func(ctx context.Context) {
			for b.Loop() {
				sinkReceipt, _ = s.Buy(ctx, in)
			}
		})
	})
	b.Run("while-another-is-recorded", func(b *testing.B) {
		b.ReportAllocs()
		run(b, func(context.Context) {
			for b.Loop() {
				sinkReceipt, _ = s.Buy(context.Background(), in)
			}
		})
	})
}
