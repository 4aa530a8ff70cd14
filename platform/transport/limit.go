package transport

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// limiter caps the calls in flight to one remote module, so a slow module
// cannot absorb every goroutine of its callers. A caller waits for a slot
// only as long as its context allows, and then gets the context's error.
type limiter struct {
	slots    *semaphore.Weighted
	n        int
	inFlight atomic.Int64 // calls holding a slot, for metrics
}

// newLimiter allows n calls at once; n < 1 (a configuration left unset)
// means one, never zero, which would block every call.
func newLimiter(n int) *limiter {
	n = max(n, 1)
	return &limiter{slots: semaphore.NewWeighted(int64(n)), n: n}
}

// wrap passes calls through the cap.
func (l *limiter) wrap(next send) send {
	return func(ctx context.Context, r *request) error {
		// A free slot is taken without Acquire, which asks for ctx.Done()
		// and so makes the context allocate its channel on every call.
		// TryAcquire never jumps the queue: it fails while others wait.
		// Like Acquire, a caller whose context is done takes no slot.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		if !l.slots.TryAcquire(1) {
			if err := l.slots.Acquire(ctx, 1); err != nil {
				return fmt.Errorf("%s: wait for one of %d call slots: %w", r, l.n, err)
			}
		}
		l.inFlight.Add(1)
		defer func() {
			l.inFlight.Add(-1)
			l.slots.Release(1)
		}()
		return next(ctx, r)
	}
}
