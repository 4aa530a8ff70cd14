package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RepeatInterval is how often a throttled failure is logged while it
// lasts.
const RepeatInterval = 30 * time.Second

// KeyRepeated counts the occurrences of a throttled line left out since
// the previous line of its kind.
const KeyRepeated = "repeated"

// Throttle logs a failure that repeats (a relay whose database is down
// retries every poll, five times a second) once per interval instead of
// every time: the first occurrence of a kind at once, later ones within
// the interval only counted, and the next line after the interval carries
// that count (repeated=N). Resolved logs the end of it, with the count of
// what was left out. Kinds are keys from a small fixed set (a module and
// what failed), never ids, so the throttle's memory stays bounded.
type Throttle struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	logged  time.Time // when its last line was written
	skipped int       // occurrences since
}

// NewThrottle logs through log, a kind at most once per every.
func NewThrottle(log *slog.Logger, every time.Duration) *Throttle {
	return &Throttle{log: log, every: every, now: time.Now, kinds: map[string]*kind{}}
}

// Log writes msg with args at level, unless a line of the same key was
// written less than the interval ago; it reports whether it wrote.
func (t *Throttle) Log(ctx context.Context, level slog.Level, key, msg string, args ...any) bool {
	if !t.log.Enabled(ctx, level) {
		return false
	}
	now := t.now()
	t.mu.Lock()
	k, seen := t.kinds[key]
	if seen && now.Sub(k.logged) < t.every {
		k.skipped++
		t.mu.Unlock()
		return false
	}
	skipped := 0
	if seen {
		skipped = k.skipped
	}
	t.kinds[key] = &kind{logged: now}
	t.mu.Unlock()
	if skipped > 0 {
		args = append(args, KeyRepeated, skipped)
	}
	t.log.Log(ctx, level, msg, args...)
	return true
}

// Resolved ends the failure of key: if any line of it was written, msg is
// logged at info with the occurrences not logged since the last one. A
// key that was not failing logs nothing, so callers may call it on every
// success.
func (t *Throttle) Resolved(ctx context.Context, key, msg string, args ...any) {
	t.mu.Lock()
	k, seen := t.kinds[key]
	delete(t.kinds, key)
	t.mu.Unlock()
	if !seen {
		return
	}
	t.log.InfoContext(ctx, msg, append(args, KeyRepeated, k.skipped)...)
}
