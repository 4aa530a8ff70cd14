// Package ratelimit limits request rates at the gateway: per user for
// authenticated calls, per client IP otherwise and always on the auth
// routes, with a token bucket per
// route group (the longest matching prefix), stricter on /api/v1/auth.
package ratelimit

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"mitosis/modules/gateway"
	"mitosis/platform/auth"
	"mitosis/platform/config"
)

// Headers of the IETF RateLimit header fields draft.
const (
	HeaderLimit     = "RateLimit-Limit"
	HeaderRemaining = "RateLimit-Remaining"
	HeaderReset     = "RateLimit-Reset"
)

// Limiter applies the configured limits.
type Limiter struct {
	groups []group // longest prefix first
	tokens *auth.Verifier
	now    func() time.Time
}

type group struct {
	name, prefix string
	rate         config.Rate
	store        *store
}

// New builds the limiter of the configured groups.
func New(limits map[string]config.RateLimit, tokens *auth.Verifier) (*Limiter, error) {
	l := &Limiter{tokens: tokens, now: time.Now}
	for name, rl := range limits {
		r, err := config.ParseRate(rl.Limit)
		if err != nil {
			return nil, fmt.Errorf("rate limit %s: %w", name, err)
		}
		g := group{name: name, prefix: rl.Prefix, rate: r}
		if !r.Off {
			g.store = newStore(rate.Limit(float64(r.Events)/r.Per.Seconds()), r.Burst)
		}
		l.groups = append(l.groups, g)
	}
	sort.Slice(l.groups, func(i, j int) bool { return len(l.groups[i].prefix) > len(l.groups[j].prefix) })
	return l, nil
}

// Middleware answers 429 with Retry-After past the limit, and sets the
// RateLimit-* headers on every limited route.
func (l *Limiter) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := l.match(c.Request().URL.Path)
		if g == nil || g.store == nil {
			return next(c)
		}
		v := g.store.take(l.key(c), l.now())
		h := c.Response().Header()
		h.Set(HeaderLimit, strconv.Itoa(g.rate.Burst))
		h.Set(HeaderRemaining, strconv.Itoa(v.remaining))
		h.Set(HeaderReset, seconds(v.reset))
		if !v.allowed {
			h.Set("Retry-After", seconds(max(v.retry, time.Second)))
			return fmt.Errorf("%w: at most %d requests per %s (burst %d) on %s; retry in %ss",
				gateway.ErrRateLimited, g.rate.Events, g.rate.Per, g.rate.Burst, g.prefix, seconds(v.retry))
		}
		return next(c)
	}
}

func (l *Limiter) match(path string) *group {
	for i := range l.groups {
		if strings.HasPrefix(path, l.groups[i].prefix) {
			return &l.groups[i]
		}
	}
	return nil
}

// authPath is where tokens are obtained; its limit guards against guessing.
const authPath = "/api/v1/auth"

// key is the caller: its user when the bearer token verifies, otherwise its
// IP (as echo's IP extractor sees it, trusting only configured proxies).
// Under /api/v1/auth it is always the IP: a token attached to a login
// attempt must not buy the attacker another bucket.
func (l *Limiter) key(c echo.Context) string {
	path := c.Request().URL.Path
	if path == authPath || strings.HasPrefix(path, authPath+"/") {
		return "ip:" + c.RealIP()
	}
	if scheme, token, ok := strings.Cut(c.Request().Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if claims, err := l.tokens.Verify(c.Request().Context(), strings.TrimSpace(token)); err == nil {
			return "user:" + claims.Subject
		}
	}
	return "ip:" + c.RealIP()
}

// IPExtractor believes X-Forwarded-For only from the trusted proxies; with
// none, the client is the peer of the connection.
func IPExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	nets, err := config.TrustedNets(trusted)
	if err != nil {
		return nil, err
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// seconds rounds up to whole seconds, as the headers carry.
func seconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
