package orders_test

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"mitosis/modules/modulestest"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
	"mitosis/platform/telemetry/telemetrytest"
)

// BenchmarkPlaceOrder measures what tracing costs one order placement:
// POST /api/v1/orders over HTTP on loopback to every module in one
// process, its saga run inline (users.Get, payments.Charge, four commits),
// with TRACING off, with TRACING=otlp at rate 0 (tracing on, this
// placement not sampled: unrecorded spans only) and at rate 1 (every
// placement a trace of 38 spans, exported in the background to an
// endpoint in the benchmark that discards them). See BENCHMARKS.md,
// "Tracing".
func BenchmarkPlaceOrder(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate string // "" for TRACING off
	}{{"off", ""}, {"unsampled", "0"}, {"sampled", "1"}} {
		b.Run(tc.name, func(b *testing.B) {
			env := map[string]string{}
			if tc.rate != "" {
				endpoint := telemetrytest.Discard(b)
				env = map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "TRACING_SAMPLE_RATE": tc.rate}
			}
			var (
				u users.Service
				p payments.Service
			)
			proc := modulestest.Start(b, env, &u, &p)
			ctx := context.Background()
			email := userstest.Email()
			user, err := u.Register(ctx, users.RegisterRequest{Email: email, Name: "Bench", Password: "bench password"})
			if err != nil {
				b.Fatal(err)
			}
			tok, err := u.Authenticate(ctx, users.Credentials{Email: email, Password: "bench password"})
			if err != nil {
				b.Fatal(err)
			}
			for range 5 {
				if _, err := p.Deposit(ctx, payments.DepositRequest{UserID: user.ID, AmountCents: payments.MaxAmountCents}); err != nil {
					b.Fatal(err)
				}
			}
			client := &http.Client{}
			const body = `{"items":[{"sku":"COFFEE-1KG","quantity":1}]}`
			b.ReportAllocs()
			report := cpuTime(b)
			for b.Loop() {
				req, err := http.NewRequest(http.MethodPost, proc.URL+"/api/v1/orders", strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Fatalf("placement answered %d", resp.StatusCode)
				}
			}
			report()
		})
	}
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
