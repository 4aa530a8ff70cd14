package throttle

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"mitosis/platform/problem"
)

// Headers of the IETF RateLimit header fields draft.
const (
	HeaderLimit     = "RateLimit-Limit"
	HeaderRemaining = "RateLimit-Remaining"
	HeaderReset     = "RateLimit-Reset"
)

// ErrRateLimited means the caller exceeded its request rate (429, with
// Retry-After).
var ErrRateLimited = problem.New("rate_limited", http.StatusTooManyRequests, "Too many requests")

// Check spends one request of key's bucket and sets the RateLimit-*
// headers on h; past the limit it also sets Retry-After and returns
// ErrRateLimited, saying the limit on what (a route group, say) and when
// to retry.
func (s *Buckets) Check(h http.Header, key, on string, now time.Time) error {
	v := s.Take(key, now)
	h.Set(HeaderLimit, strconv.Itoa(s.rate.Burst))
	h.Set(HeaderRemaining, strconv.Itoa(v.Remaining))
	h.Set(HeaderReset, seconds(v.Reset))
	if v.Allowed {
		return nil
	}
	h.Set("Retry-After", seconds(max(v.Retry, time.Second)))
	return fmt.Errorf("%w: at most %d requests per %s (burst %d) on %s; retry in %ss",
		ErrRateLimited, s.rate.Events, s.rate.Per, s.rate.Burst, on, seconds(v.Retry))
}

// seconds rounds up to whole seconds, as the headers carry.
func seconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
