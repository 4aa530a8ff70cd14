package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sony/gobreaker/v2"

	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// ErrCircuitOpen marks a call refused at once, without reaching the remote
// module, because its breaker is open (or half-open with its probe already
// in flight). The error also matches problem.ErrUnavailable, so it reaches
// an API client as a 503.
var ErrCircuitOpen = errors.New("circuit open")

// ErrClientDeadline is the cause of a context whose deadline a client
// outside the system chose (X-Deadline-Ms on a public route): it may be as
// short as the client likes, so its running out says nothing about the
// callee. A deadline from CALL_TIMEOUT, or passed on by a module calling an
// internal route, does: the callee took longer than a module allows.
var ErrClientDeadline = errors.New("the client's deadline passed")

// callerGaveUp marks a call that ended because its caller cancelled or a
// client's own deadline passed: the breaker leaves it out, so no client,
// however short its deadline, can open a module's breaker for everyone.
type callerGaveUp struct{ error }

func (e callerGaveUp) Unwrap() error { return e.error }

// breaker is the circuit breaker of one remote module. After
// BreakerFailures consecutive failures it opens and refuses calls; after
// BreakerCooldown it lets one probe through, whose outcome closes or
// reopens it.
type breaker struct {
	module string
	cb     *gobreaker.CircuitBreaker[struct{}]
}

func newBreaker(module string, calls config.Calls, log *slog.Logger) *breaker {
	failures := uint32(calls.BreakerFailures)
	return &breaker{module: module, cb: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        module,
		MaxRequests: 1,
		Timeout:     calls.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// A 4xx is a healthy module answering; only its silence or a 5xx counts.
		IsSuccessful: func(err error) bool { return !remoteFault(err) },
		// A caller who gave up says nothing about the module.
		IsExcluded: func(err error) bool {
			_, gaveUp := err.(callerGaveUp)
			return gaveUp || errors.Is(err, context.Canceled)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("circuit breaker", "module", name, "from", from.String(), "to", to.String())
		},
	})}
}

// wrap passes calls through the breaker.
func (b *breaker) wrap(next send) send {
	return func(ctx context.Context, r *request) error {
		// A caller whose time is up gets its context's error here: the
		// breaker is neither asked (an open one would answer "circuit
		// open" instead of the caller's own deadline) nor told (a
		// deadline that passed before the call was sent says nothing
		// about the callee, and five of them would open its breaker).
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		_, err := b.cb.Execute(func() (struct{}, error) {
			err := next(ctx, r)
			if err != nil && clientEnded(ctx) {
				return struct{}{}, callerGaveUp{err}
			}
			return struct{}{}, err
		})
		if gaveUp, ok := err.(callerGaveUp); ok {
			return gaveUp.error
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return problem.WithDetail(fmt.Errorf("%s: %w: %w to %s (breaker %s)", r, problem.ErrUnavailable, ErrCircuitOpen, b.module, b.cb.State()),
				b.module+" is unavailable (circuit open)")
		}
		return err
	}
}

// clientEnded reports whether ctx ended by its client's choice: cancelled,
// or past a deadline the client set.
func clientEnded(ctx context.Context) bool { // (a live ctx has no cause)
	cause := context.Cause(ctx)
	return cause == ErrClientDeadline || errors.Is(cause, context.Canceled)
}

// state is closed, open or half-open; closed for no breaker (a
// loopback's), which never opens.
func (b *breaker) state() string {
	if b == nil {
		return gobreaker.StateClosed.String()
	}
	return b.cb.State().String()
}

// remoteFault reports whether err says the remote module is unwell: no
// answer (refused, reset, out of time) or a 5xx answer.
func remoteFault(err error) bool {
	if err == nil {
		return false
	}
	if re, ok := errors.AsType[*problem.RemoteError](err); ok {
		return re.Details.Status >= 500
	}
	return errors.Is(err, problem.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}
