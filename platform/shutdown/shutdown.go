// Package shutdown stops a process without losing what it was doing. On
// the first SIGTERM or SIGINT (main cancels the serve context; a second
// signal ends the process at once, in main) Run:
//
//  1. turns /health/ready to 503 (health's Drain), so load balancers take
//     the process out of rotation;
//  2. keeps serving for SHUTDOWN_DELAY, while they notice, every answer
//     closing its connection (so that clients' kept-alive connections end
//     after an answer, not under a request sent as the server closes them);
//  3. stops the fx app, whose hooks run in the reverse order of their start:
//     the HTTP server closes its listener, answers requests that still come
//     on kept-alive connections with 503 and Retry-After, and lets those in
//     flight finish; the saga worker and the event relays and consumers
//     finish the step they are in, record it, and start no other; then the
//     database pools close and the last spans are exported.
//
// Everything that waits (in-flight requests, steps) shares SHUTDOWN_TIMEOUT
// (Drain); closing the pools and flushing the telemetry have Reserve more.
package shutdown

import (
	"context"
	"log/slog"
	"time"

	"mitosis/platform/config"
	"mitosis/platform/health"
)

// Reserve is the time kept, after SHUTDOWN_TIMEOUT, for what runs after the
// waits: closing the pools and exporting the last spans. A grace period
// (Kubernetes' terminationGracePeriodSeconds) must cover SHUTDOWN_DELAY,
// SHUTDOWN_TIMEOUT and Reserve.
const Reserve = 3 * time.Second

// App is the part of an fx app that Run stops.
type App interface {
	Stop(ctx context.Context) error
}

// Run waits for ctx (the signal), then takes the process down in phases,
// logging one line per phase. It returns the app's stop error.
func Run(ctx context.Context, app App, cfg config.Shutdown, checks *health.Registry, log *slog.Logger) error {
	<-ctx.Done()
	checks.Drain()
	log.Info("shutdown: draining, /health/ready answers 503", "delay", cfg.Delay, "timeout", cfg.Timeout)
	if cfg.Delay > 0 {
		time.Sleep(cfg.Delay) // serving on: a second signal ends the process in main
		log.Info("shutdown: delay over, closing the listener")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+Reserve)
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		log.Error("shutdown: stopped uncleanly", "err", err)
		return err
	}
	log.Info("shutdown: done")
	return nil
}

// Drain is ctx without its Reserve (or half of what is left, when less
// is): what waits for work in flight (the HTTP server, the workers) waits
// within it, so the hooks after theirs still have time to run.
func Drain(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	keep := min(Reserve, time.Until(deadline)/2)
	return context.WithDeadline(ctx, deadline.Add(-keep))
}
