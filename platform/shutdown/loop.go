package shutdown

import (
	"context"
	"sync"
	"time"
)

// Loop runs a background worker's step again and again until Stop, which
// lets the step in flight finish (and record its outcome) rather than cut
// it short, and starts no other.
type Loop struct {
	halt   chan struct{}
	cancel context.CancelFunc
	done   sync.WaitGroup
	stop   sync.Once
}

// Start runs step at once, then every interval, or again at once when it
// reports more work waiting. ctx of step ends only when Stop runs out of
// time; Halting tells a long step (several sagas' steps) to wind up.
func (l *Loop) Start(interval time.Duration, step func(ctx context.Context) (more bool)) {
	ctx, cancel := context.WithCancel(context.Background())
	l.halt, l.cancel = make(chan struct{}), cancel
	l.done.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if l.halted() {
				return
			}
			if step(ctx) {
				continue
			}
			select {
			case <-l.halt:
				return
			case <-tick.C:
			}
		}
	})
}

// Halting is closed once Stop is called: a step checks it between its
// parts and starts no new one.
func (l *Loop) Halting() <-chan struct{} { return l.halt }

func (l *Loop) halted() bool {
	select {
	case <-l.halt:
		return true
	default:
		return false
	}
}

// Stop halts the loop and waits for its step within Drain(ctx); past that
// the step's context is cancelled (a step cut short records a retry) and
// Stop waits for it to return. It reports whether the step had to be cut.
func (l *Loop) Stop(ctx context.Context) (cut bool) {
	if l.cancel == nil {
		return false
	}
	l.stop.Do(func() { close(l.halt) })
	finished := make(chan struct{})
	go func() { l.done.Wait(); close(finished) }()
	drain, cancel := Drain(ctx)
	defer cancel()
	select {
	case <-finished:
	case <-drain.Done():
		cut = true
		l.cancel()
		<-finished
	}
	l.cancel()
	return cut
}
