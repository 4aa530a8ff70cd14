package users_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"syscall"
	"testing"
	"time"

	"mitosis/modules/modulestest"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/userstest"
	"mitosis/platform/contract"
	"mitosis/platform/telemetry/telemetrytest"
)

// sink keeps the compiler from discarding the calls being measured.
var sink users.User

// BenchmarkGet measures what orders pays to ask users for a customer, four
// ways: a direct call of the *app.Service, the in-process call through
// users.Service as fx provides it, the same with LOCAL_CALLS=strict
// (the HTTP path through the process's own handler, without the socket;
// a second process on the same database), and the HTTP client on loopback.
//
// "dispatch" asks for a malformed id, which the local implementation refuses
// before touching the database: it isolates the cost of the call itself (the
// HTTP variant still makes a full round trip). "db" asks for a real user, so
// every way includes one PostgreSQL query. The direct and in-process ways
// both call through users.Service, the interface a consumer holds; "dispatch"
// also calls through a forwarder, the floor of any in-process stub.
//
// The HTTP variants, and the db ones, also report their p50 and p99 latency.
// bench/run.sh runs this and prints the ratios; see BENCHMARKS.md. Its
// processes run with TRACING off (the default): "inprocess" is the fast
// path tracing off keeps. BenchmarkGetTraced measures the same calls traced.
func BenchmarkGet(b *testing.B) {
	var provided users.Service
	p := modulestest.Start(b, map[string]string{"SERVICES": "users,payments"}, &provided)
	var remote users.Service
	modulestest.Clients(b, map[string]string{"users": p.URL}, &remote)
	// fx provides the contract as a stub bound to a caller, as orders holds
	// it; the stub calls the concrete service, the very instance (same pool)
	// the direct variant calls.
	local := contract.ForCaller(provided, "orders")
	var strict users.Service
	modulestest.Start(b, map[string]string{"SERVICES": "users,payments", "LOCAL_CALLS": "strict", "DATABASE_URL": p.DB}, &strict)
	strict = contract.ForCaller(strict, "orders")
	target, _ := local.(interface{ Implementation() any })
	if _, ok := target.Implementation().(*app.Service); !ok {
		b.Fatalf("users.Service %T does not call an *app.Service in-process", local)
	}
	// The implementation held as a consumer would hold it without the stub:
	// a users.Service of a type the compiler does not see, so that direct.Get
	// is the interface call local.Get is (an *app.Service would be called
	// without its method table). The forwarder is held the same way.
	direct := target.Implementation().(users.Service)
	forward := newForwarder(direct)

	ctx := context.Background()
	u, err := local.Register(ctx, users.RegisterRequest{Email: userstest.Email(), Name: "Bench", Password: "bench password"})
	if err != nil {
		b.Fatal(err)
	}

	// The loops call each receiver explicitly: a shared helper taking a
	// func would add an indirect call to the direct and in-process ways.
	b.Run("dispatch", func(b *testing.B) {
		in := users.GetRequest{ID: "not-a-uuid"}
		for _, svc := range []users.Service{direct, forward, local, strict, remote} {
			if _, err := svc.Get(ctx, in); !errors.Is(err, users.ErrNotFound) {
				b.Fatalf("%T: want users.ErrNotFound, got %v", svc, err)
			}
		}
		// cpu-ns/op beside ns/op: on a busy machine the process's CPU time
		// per call says more of these nanosecond calls than the wall clock.
		b.Run("direct", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				out, err := direct.Get(ctx, in)
				if err == nil {
					b.Fatal("want an error")
				}
				sink = out
			}
			report()
		})
		b.Run("forwarder", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				out, err := forward.Get(ctx, in)
				if err == nil {
					b.Fatal("want an error")
				}
				sink = out
			}
			report()
		})
		b.Run("inprocess", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				out, err := local.Get(ctx, in)
				if err == nil {
					b.Fatal("want an error")
				}
				sink = out
			}
			report()
		})
		b.Run("strict", func(b *testing.B) {
			timed(b, func() error {
				out, err := strict.Get(ctx, in)
				sink = out
				if err == nil {
					return errors.New("want an error")
				}
				return nil
			})
		})
		b.Run("http", func(b *testing.B) {
			timed(b, func() error {
				out, err := remote.Get(ctx, in)
				sink = out
				if err == nil {
					return errors.New("want an error")
				}
				return nil
			})
		})
	})

	b.Run("db", func(b *testing.B) {
		in := users.GetRequest{ID: u.ID}
		ways := []struct {
			name string
			svc  users.Service
		}{{"direct", direct}, {"inprocess", local}, {"strict", strict}, {"http", remote}}
		for _, w := range ways {
			b.Run(w.name, func(b *testing.B) {
				timed(b, func() error {
					out, err := w.svc.Get(ctx, in)
					sink = out
					return err
				})
			})
		}
	})
}

// forwarder is the least an in-process stub can be: a Go value between the
// caller and the implementation that passes each call on and does nothing
// else (the compiler's promoted-method wrapper: no counting, no check).
// What dispatch/inprocess costs beyond dispatch/forwarder is the contract
// layer's own; what the forwarder costs beyond the direct call, every stub
// pays (see BENCHMARKS.md).
type forwarder struct{ users.Service }

// newForwarder hides the forwarder's type from the caller: seen, the
// compiler would call its wrapper directly and inline it away.
//
//go:noinline
func newForwarder(s users.Service) users.Service { return &forwarder{s} }

// BenchmarkGetTraced is BenchmarkGet's in-process and HTTP calls with
// TRACING=otlp at TRACING_SAMPLE_RATE=1, exporting to an endpoint in the
// benchmark that discards what it gets: every call is a sampled span
// (INTERNAL in-process; CLIENT and SERVER over HTTP, and over HTTP the
// server's SQL spans too), exported in the background. Its own processes,
// so that BenchmarkGet runs beside no traced one.
func BenchmarkGetTraced(b *testing.B) {
	tracing := map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": telemetrytest.Discard(b), "TRACING_SAMPLE_RATE": "1"}
	var local, remote users.Service
	served := maps.Clone(tracing)
	served["SERVICES"] = "users,payments"
	p := modulestest.Start(b, served, &local)
	modulestest.ClientsWith(b, tracing, map[string]string{"users": p.URL}, &remote)
	local = contract.ForCaller(local, "orders")
	ctx := context.Background()
	u, err := local.Register(ctx, users.RegisterRequest{Email: userstest.Email(), Name: "Bench", Password: "bench password"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("dispatch", func(b *testing.B) {
		in := users.GetRequest{ID: "not-a-uuid"}
		b.Run("inprocess", func(b *testing.B) {
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				out, err := local.Get(ctx, in)
				if err == nil {
					b.Fatal("want an error")
				}
				sink = out
			}
			report()
		})
		b.Run("http", func(b *testing.B) {
			timed(b, func() error {
				out, err := remote.Get(ctx, in)
				sink = out
				if err == nil {
					return errors.New("want an error")
				}
				return nil
			})
		})
	})
	b.Run("db", func(b *testing.B) {
		in := users.GetRequest{ID: u.ID}
		for _, w := range []struct {
			name string
			svc  users.Service
		}{{"inprocess", local}, {"http", remote}} {
			b.Run(w.name, func(b *testing.B) {
				timed(b, func() error {
					out, err := w.svc.Get(ctx, in)
					sink = out
					return err
				})
			})
		}
	})
}

// timed runs call b.N times, recording each duration, and reports p50 and
// p99 in nanoseconds beside ns/op. Reading the clock costs tens of
// nanoseconds, so it is only used where a call takes microseconds.
func timed(b *testing.B, call func() error) {
	b.Helper()
	b.ReportAllocs()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		err := call()
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(percentile(durations, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(durations, 99)), "p99-ns")
}

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

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}
