package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minIdle keeps sweeps rare when buckets refill fast.
const minIdle = time.Minute

// store holds one token bucket per key, in memory: right for one replica
// (several need a shared store, see README).
type store struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	buckets   map[string]*bucket
	idle      time.Duration
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// verdict is the outcome of one request against its bucket.
type verdict struct {
	allowed   bool
	remaining int
	// reset is when the bucket is full again; retry when one request fits.
	reset, retry time.Duration
}

func newStore(limit rate.Limit, burst int) *store {
	// A bucket idle for as long as it takes to refill from empty is full, so
	// forgetting it changes nothing.
	idle := max(time.Duration(float64(burst)/float64(limit)*float64(time.Second)), minIdle)
	return &store{limit: limit, burst: burst, buckets: map[string]*bucket{}, idle: idle}
}

// take spends one token of key's bucket if it has one.
func (s *store) take(key string, now time.Time) verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(s.limit, s.burst)}
		s.buckets[key] = b
	}
	b.seen = now
	v := verdict{allowed: b.lim.AllowN(now, 1)}
	tokens := b.lim.TokensAt(now)
	v.remaining = max(int(math.Floor(tokens)), 0)
	v.reset = s.after(float64(s.burst) - tokens)
	if !v.allowed {
		v.retry = s.after(1 - tokens)
	}
	return v
}

// after is how long the bucket takes to gain n tokens.
func (s *store) after(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n / float64(s.limit) * float64(time.Second))
}

// sweep forgets idle buckets, at most once per idle period.
func (s *store) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < s.idle {
		return
	}
	s.lastSweep = now
	for key, b := range s.buckets {
		if now.Sub(b.seen) >= s.idle {
			delete(s.buckets, key)
		}
	}
}

func (s *store) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}
