package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"mitosis/platform/logging"
	"mitosis/platform/shutdown"
)

// workerBatch is how many sagas the worker claims and runs at once.
const workerBatch = 16

// Worker finishes the sagas no request finished: at start and every
// SAGA_RECOVERY_INTERVAL it claims due sagas nobody holds (a lease, so
// replicas never run one saga at once) and drives each to its end, or to
// its next retry.
type Worker struct {
	svc      *Service
	log      *slog.Logger
	throttle *logging.Throttle // a database that is down fails every pass
	loop     shutdown.Loop
}

// NewWorker returns the recovery worker of svc.
func NewWorker(svc *Service, log *slog.Logger) *Worker {
	return &Worker{svc: svc, log: log, throttle: logging.NewThrottle(log, logging.RepeatInterval)}
}

// Start runs the worker in the background until Stop.
func (w *Worker) Start() {
	w.loop.Start(w.svc.cfg.RecoveryInterval, func(ctx context.Context) bool {
		n, err := w.RunOnce(ctx)
		switch {
		case err == nil:
			w.throttle.Resolved(ctx, "recovery", "saga recovery works again")
		case ctx.Err() == nil:
			w.throttle.Log(ctx, slog.LevelWarn, "recovery", "saga recovery failed", "err", err)
		}
		return n == workerBatch // more may be due: no pause
	})
}

// Stop lets each saga in flight finish its current step, records it and
// releases the saga (another runner takes it from there), within the
// shutdown's time; past it, the steps are cut short and recorded as retries.
func (w *Worker) Stop(ctx context.Context) error {
	cut := w.loop.Stop(ctx)
	w.log.Info("shutdown: saga worker stopped", "steps_cut_short", cut)
	return nil
}

// RunOnce claims due sagas and runs them concurrently; it returns how many
// it claimed. Once the worker halts, each stops after its current step.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	claimed, err := w.svc.store.Claim(ctx, newOwner(), w.svc.cfg.Lease, workerBatch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(claimed))
	for i, row := range claimed {
		wg.Go(func() {
			sg := sagaOf(row)
			ctx, span := w.svc.startRecovery(ctx, sg)
			defer span.End()
			if _, err := w.svc.run(ctx, sg, w.loop.Halting()); err != nil && !settledLater(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}
