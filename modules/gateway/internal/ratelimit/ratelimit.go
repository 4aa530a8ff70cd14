// Package ratelimit limits request rates at the gateway: per user for
// authenticated calls, per client IP otherwise and always on the credential
// routes (the auth routes and registration), with a token bucket per route
// group (the longest matching prefix), stricter on the credential routes.
package ratelimit

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"mitosis/modules/gateway"
	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/auth"
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
	method       string // "" for every method
	rate         settings.Rate
	store        *store
}

// New builds the limiter of the configured groups.
func New(limits map[string]settings.RateLimit, tokens *auth.Verifier) (*Limiter, error) {
	l := &Limiter{tokens: tokens, now: time.Now}
	for name, rl := range limits {
		r, err := settings.ParseRate(rl.Limit)
		if err != nil {
			return nil, fmt.Errorf("rate limit %s: %w", name, err)
		}
		g := group{name: name, prefix: rl.Prefix, method: rl.Method, rate: r}
		if !r.Off {
			g.store = newStore(rate.Limit(float64(r.Events)/r.Per.Seconds()), r.Burst)
		}
		l.groups = append(l.groups, g)
	}
	// Longest prefix first; of two with one prefix, the one with a method.
	sort.Slice(l.groups, func(i, j int) bool {
		a, b := l.groups[i], l.groups[j]
		if len(a.prefix) != len(b.prefix) {
			return len(a.prefix) > len(b.prefix)
		}
		return a.method > b.method
	})
	return l, nil
}

// Middleware answers 429 with Retry-After past the limit, and sets the
// RateLimit-* headers on every limited route.
func (l *Limiter) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := l.match(c.Request().Method, c.Request().URL.Path)
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

func (l *Limiter) match(method, path string) *group {
	for i := range l.groups {
		g := &l.groups[i]
		if strings.HasPrefix(path, g.prefix) && (g.method == "" || g.method == method) {
			return g
		}
	}
	return nil
}

// Credential routes: where tokens are obtained (their limit guards against
// guessing) and where accounts are made (each costs a password hash).
const (
	authPath     = "/api/v1/auth"
	registerPath = "/api/v1/users"
)

// credential reports whether the request is for a credential route.
func credential(r *http.Request) bool {
	path := r.URL.Path
	return path == authPath || strings.HasPrefix(path, authPath+"/") ||
		(r.Method == http.MethodPost && path == registerPath)
}

// key is the caller: its user when the bearer token verifies, otherwise its
// IP (as echo's IP extractor sees it, trusting only configured proxies).
// On a credential route it is always the IP: a token attached to a login
// attempt or a registration must not buy the attacker another bucket.
func (l *Limiter) key(c echo.Context) string {
	if credential(c.Request()) {
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
	nets, err := settings.TrustedNets(trusted)
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
