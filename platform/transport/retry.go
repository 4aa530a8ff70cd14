package transport

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"mitosis/platform/problem"
)

// maxBackoff bounds one pause between attempts, whatever the attempt number.
const maxBackoff = 2 * time.Second

// retry sends a call that is safe to repeat again, up to retries more
// times, while it fails in a way a later attempt may not: no answer, or a
// 502, 503 or 504. It never retries an Unsafe call or a 4xx, stops when the
// caller's context ends, and never starts a pause that would outlast the
// deadline.
func retry(retries int, base time.Duration, next send) send {
	return func(ctx context.Context, r *request) error {
		err := next(ctx, r)
		if !r.safety.repeatable() {
			return err
		}
		for attempt := 0; attempt < retries && retryable(err); attempt++ {
			if !pause(ctx, backoff(base, attempt)) {
				return err
			}
			prev := err
			err = next(ctx, r)
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// The caller's time ran out during a retry: keep why it
				// was retrying beside the deadline.
				return errors.Join(prev, err)
			}
		}
		return err
	}
}

// retryable reports whether a failed attempt is worth repeating.
func retryable(err error) bool {
	if err == nil || errors.Is(err, ErrCircuitOpen) {
		return false
	}
	if re, ok := errors.AsType[*problem.RemoteError](err); ok {
		switch re.Details.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	// No answer at all: connection refused or reset. The caller's own
	// deadline and cancellation come back as context errors, not this.
	return errors.Is(err, problem.ErrUnavailable)
}

// backoff is exponential with full jitter: uniform in [0, base·2^attempt),
// capped, so that callers who failed together do not retry together.
func backoff(base time.Duration, attempt int) time.Duration {
	ceil := base << min(attempt, 16)
	if ceil <= 0 || ceil > maxBackoff {
		ceil = maxBackoff
	}
	return rand.N(ceil)
}

// pause waits d, and reports false instead when ctx ends first or its
// deadline leaves no time for another attempt after the pause.
func pause(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
