package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"mitosis/platform/logging"
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
	interval time.Duration
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// NewWorker returns the recovery worker of svc.
func NewWorker(svc *Service, log *slog.Logger) *Worker {
	return &Worker{svc: svc, log: log, interval: svc.cfg.RecoveryInterval, throttle: logging.NewThrottle(log, logging.RepeatInterval)}
}

// Start runs the worker in the background until Stop.
func (w *Worker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.done.Go(func() {
		tick := time.NewTicker(w.interval)
		defer tick.Stop()
		for {
			n, err := w.RunOnce(ctx)
			switch {
			case err == nil:
				w.throttle.Resolved(ctx, "recovery", "saga recovery works again")
			case ctx.Err() == nil:
				w.throttle.Log(ctx, slog.LevelWarn, "recovery", "saga recovery failed", "err", err)
			}
			if n == workerBatch {
				continue // more may be due: no pause
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// Stop ends the worker and waits for the sagas in flight; their steps are
// cut short and recorded for a retry.
func (w *Worker) Stop() {
	if w.cancel != nil {
		w.cancel()
		w.done.Wait()
	}
}

// RunOnce claims due sagas and runs them concurrently; it returns how many
// it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	claimed, err := w.svc.store.Claim(ctx, newOwner(), w.svc.cfg.Lease, workerBatch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(claimed))
	for i, sg := range claimed {
		wg.Go(func() {
			ctx, span := w.svc.startRecovery(ctx, sg)
			defer span.End()
			if _, err := w.svc.run(ctx, sg); err != nil && !settledLater(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}
