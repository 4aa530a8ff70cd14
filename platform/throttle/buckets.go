package throttle

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minIdle keeps sweeps rare when buckets refill fast.
const minIdle = time.Minute

// Buckets holds one token bucket per key, in memory: right for one replica
// (several need a shared store, see README).
type Buckets struct {
	rate      Rate
	mu        sync.Mutex
	limit     rate.Limit
	buckets   map[string]*bucket
	idle      time.Duration
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Verdict is the outcome of one request against its bucket.
type Verdict struct {
	Allowed   bool
	Remaining int
	// Reset is when the bucket is full again; Retry when one request fits.
	Reset, Retry time.Duration
}

// NewBuckets holds buckets of r, which must not be Off.
func NewBuckets(r Rate) *Buckets {
	limit := rate.Limit(float64(r.Events) / r.Per.Seconds())
	// A bucket idle for as long as it takes to refill from empty is full, so
	// forgetting it changes nothing.
	idle := max(time.Duration(float64(r.Burst)/float64(limit)*float64(time.Second)), minIdle)
	return &Buckets{rate: r, limit: limit, buckets: map[string]*bucket{}, idle: idle}
}

// Rate is the rate of every bucket.
func (s *Buckets) Rate() Rate { return s.rate }

// Take spends one token of key's bucket if it has one.
func (s *Buckets) Take(key string, now time.Time) Verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	b := s.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(s.limit, s.rate.Burst)}
		s.buckets[key] = b
	}
	b.seen = now
	v := Verdict{Allowed: b.lim.AllowN(now, 1)}
	tokens := b.lim.TokensAt(now)
	v.Remaining = max(int(math.Floor(tokens)), 0)
	v.Reset = s.after(float64(s.rate.Burst) - tokens)
	if !v.Allowed {
		v.Retry = s.after(1 - tokens)
	}
	return v
}

// after is how long a bucket takes to gain n tokens.
func (s *Buckets) after(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(n / float64(s.limit) * float64(time.Second))
}

// sweep forgets idle buckets, at most once per idle period.
func (s *Buckets) sweep(now time.Time) {
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

// Len is how many buckets are kept.
func (s *Buckets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets)
}
