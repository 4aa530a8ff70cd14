// Package ratelimit limits request rates at the gateway: per user for
// authenticated calls, per client IP otherwise and always on the credential
// routes (the auth routes and registration), with a token bucket per route
// group (the longest matching prefix), stricter on the credential routes.
package ratelimit

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/auth"
	"mitosis/platform/throttle"
)

// Limiter applies the configured limits.
type Limiter struct {
	groups []group // longest prefix first
	tokens *auth.Verifier
	now    func() time.Time
}

type group struct {
	name, prefix string
	method       string            // "" for every method
	buckets      *throttle.Buckets // nil when the group is off
}

// New builds the limiter of the configured groups.
func New(limits map[string]settings.RateLimit, tokens *auth.Verifier) (*Limiter, error) {
	l := &Limiter{tokens: tokens, now: time.Now}
	for name, rl := range limits {
		r, err := throttle.ParseRate(rl.Limit)
		if err != nil {
			return nil, fmt.Errorf("rate limit %s: %w", name, err)
		}
		g := group{name: name, prefix: rl.Prefix, method: rl.Method}
		if !r.Off {
			g.buckets = throttle.NewBuckets(r)
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

// Middleware answers 429 with Retry-After past the limit
// (throttle.ErrRateLimited), and sets the RateLimit-* headers on every
// limited route.
func (l *Limiter) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := l.match(c.Request().Method, c.Request().URL.Path)
		if g == nil || g.buckets == nil {
			return next(c)
		}
		if err := g.buckets.Check(c.Response().Header(), l.key(c), g.prefix, l.now()); err != nil {
			return err
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
		if claims, err := l.tokens.VerifyRequest(c, strings.TrimSpace(token)); err == nil {
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
