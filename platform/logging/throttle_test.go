package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a time the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newThrottle(out *bytes.Buffer) (*Throttle, *clock) {
	c := &clock{now: time.Unix(1000, 0)}
	th := NewThrottle(slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})), 10*time.Second)
	th.now = c.Now
	return th, c
}

func outLines(out *bytes.Buffer) []string {
	s := strings.TrimSpace(out.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// A failure five times a second for 25 seconds is three lines, each after
// the first counting what it left out, and one line when it ends.
func TestARepeatedFailureIsLoggedOncePerIntervalWithACount(t *testing.T) {
	var out bytes.Buffer
	th, c := newThrottle(&out)
	ctx := context.Background()
	written := 0
	for range 125 {
		if th.Log(ctx, slog.LevelWarn, "relay:orders", "event relay", "err", "connection refused") {
			written++
		}
		c.Add(200 * time.Millisecond)
	}
	assert.Equal(t, 3, written)
	lines := outLines(&out)
	require.Len(t, lines, 3)
	assert.Equal(t, `level=WARN msg="event relay" err="connection refused"`, lines[0])
	assert.Equal(t, `level=WARN msg="event relay" err="connection refused" repeated=49`, lines[1])
	assert.Equal(t, `level=WARN msg="event relay" err="connection refused" repeated=49`, lines[2])

	th.Resolved(ctx, "relay:orders", "event relay recovered")
	lines = outLines(&out)
	require.Len(t, lines, 4)
	assert.Equal(t, `level=INFO msg="event relay recovered" repeated=24`, lines[3])

	// Over: the next failure is logged at once, with no count.
	th.Log(ctx, slog.LevelWarn, "relay:orders", "event relay", "err", "again")
	assert.Equal(t, `level=WARN msg="event relay" err=again`, outLines(&out)[4])
}

// Kinds are throttled on their own; a kind that was not failing resolves
// silently.
func TestKindsAreIndependent(t *testing.T) {
	var out bytes.Buffer
	th, _ := newThrottle(&out)
	ctx := context.Background()
	assert.True(t, th.Log(ctx, slog.LevelWarn, "a", "a failed"))
	assert.True(t, th.Log(ctx, slog.LevelWarn, "b", "b failed"))
	assert.False(t, th.Log(ctx, slog.LevelWarn, "a", "a failed"))
	th.Resolved(ctx, "never", "never failed")
	assert.Len(t, outLines(&out), 2)
}

// A level the logger does not log is neither written nor counted.
func TestDisabledLevelsCountNothing(t *testing.T) {
	var out bytes.Buffer
	th := NewThrottle(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})), time.Hour)
	assert.False(t, th.Log(context.Background(), slog.LevelInfo, "k", "quiet"))
	assert.Empty(t, out.String())
	th.Resolved(context.Background(), "k", "over")
	assert.Empty(t, out.String())
}

// Many goroutines failing at once still write one line per interval.
func TestConcurrentFailures(t *testing.T) {
	var out syncBuffer
	th := NewThrottle(slog.New(slog.NewTextHandler(&out, nil)), time.Hour)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { th.Log(context.Background(), slog.LevelWarn, "k", "failed") })
	}
	wg.Wait()
	assert.Equal(t, 1, strings.Count(out.String(), "failed"))
	th.Resolved(context.Background(), "k", "over")
	assert.Contains(t, out.String(), "repeated=49")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
