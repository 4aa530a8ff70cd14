package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
)

// Strategies of service authentication (SERVICE_AUTH).
const (
	// ServiceAuthJWT: short-lived HS256 tokens the caller signs with
	// SERVICE_SECRET, iss = calling module, aud = called module.
	ServiceAuthJWT = "jwt"
	// ServiceAuthAPIKey: one shared SERVICE_API_KEY; the caller names
	// itself in CallerHeader.
	ServiceAuthAPIKey = "api-key"
	// ServiceAuthNone: no credentials; development only.
	ServiceAuthNone = "none"
)

// CallerHeader names the calling module where the credential itself does
// not (api-key, none).
const CallerHeader = "X-Service-Caller"

// serviceTTL keeps stolen service tokens short-lived.
const serviceTTL = 5 * time.Minute

// ServiceAuth attaches this process's credentials to its calls to other
// modules, and checks the credentials of calls to its /internal/ routes.
type ServiceAuth struct {
	mode   string
	caller string // this process's modules, comma-separated
	secret []byte
	rawKey string
	keySum [sha256.Size]byte
	now    func() time.Time

	mu    sync.Mutex
	cache map[[2]string]cachedToken // (caller, callee) → token

	vmu      sync.Mutex
	verified map[[2]string]verifiedToken // (token, callee) → its check passed
}

// verifiedToken is a token that passed every check of verify, with the
// time until which it still would: a caller sends the same token for half
// its life, and parsing it again each call costs 70 allocations.
type verifiedToken struct {
	caller string
	until  time.Time
}

// maxVerified bounds the verified tokens kept: only correctly signed
// tokens enter, about one per (caller, callee) per half-life.
const maxVerified = 256

type cachedToken struct {
	header  []string // "Bearer <token>", as a header's values
	renewAt time.Time
}

// NewJWTServiceAuth signs and verifies service tokens with secret.
func NewJWTServiceAuth(secret []byte, caller string) *ServiceAuth {
	return &ServiceAuth{mode: ServiceAuthJWT, caller: caller, secret: secret, now: time.Now,
		cache: map[[2]string]cachedToken{}, verified: map[[2]string]verifiedToken{}}
}

// NewAPIKeyServiceAuth sends and expects key.
func NewAPIKeyServiceAuth(key, caller string) *ServiceAuth {
	// Comparing hashes keeps the comparison constant-time whatever the
	// lengths.
	return &ServiceAuth{mode: ServiceAuthAPIKey, caller: caller, rawKey: key, keySum: sha256.Sum256([]byte(key)), now: time.Now}
}

// NewNoServiceAuth lets every internal call through (development only; the
// caller of this constructor enforces that).
func NewNoServiceAuth(caller string) *ServiceAuth {
	return &ServiceAuth{mode: ServiceAuthNone, caller: caller, now: time.Now}
}

// Apply sets the credentials of a call from the module caller to the
// module callee; an empty caller stands for this process's modules.
func (s *ServiceAuth) Apply(h http.Header, caller, callee string) error {
	if caller == "" {
		caller = s.caller
	}
	switch s.mode {
	case ServiceAuthJWT:
		authz, err := s.token(caller, callee)
		if err != nil {
			return err
		}
		// The cached values themselves: a header's values are replaced,
		// never written into, and Set would copy them into a new slice.
		h["Authorization"] = authz
	case ServiceAuthAPIKey:
		h.Set("Authorization", "ApiKey "+s.rawKey)
		h.Set(CallerHeader, caller)
	default:
		h.Set(CallerHeader, caller)
	}
	return nil
}

// token returns a cached token from caller to callee, as the values of an
// Authorization header, renewed at half its life.
func (s *ServiceAuth) token(caller, callee string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key := [2]string{caller, callee}
	if c, ok := s.cache[key]; ok && now.Before(c.renewAt) {
		return c.header, nil
	}
	claims := jwt.RegisteredClaims{
		Issuer:    caller,
		Subject:   caller,
		Audience:  jwt.ClaimStrings{callee},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(serviceTTL)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return nil, fmt.Errorf("sign service token: %w", err)
	}
	header := []string{"Bearer " + signed}
	s.cache[key] = cachedToken{header: header, renewAt: now.Add(serviceTTL / 2)}
	return header, nil
}

// verify checks the credentials of a call to callee and returns the caller.
func (s *ServiceAuth) verify(c echo.Context, callee string) (string, error) {
	switch s.mode {
	case ServiceAuthJWT:
		raw, err := Bearer(c)
		if err != nil {
			return "", err
		}
		key := [2]string{raw, callee}
		if caller, ok := s.wasVerified(key); ok {
			return caller, nil
		}
		var claims jwt.RegisteredClaims
		parser := jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithAudience(callee),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(s.now),
		)
		if _, err := parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return s.secret, nil }); err != nil {
			return "", fmt.Errorf("%w: %s", problem.ErrUnauthorized, reason(err))
		}
		if claims.Issuer == "" || claims.Subject != claims.Issuer {
			return "", fmt.Errorf("%w: service credentials required", problem.ErrUnauthorized)
		}
		// Short-lived is checked here, not trusted to the signer: a token
		// minted for longer (or without iat) would be a replayable
		// credential for as long as it says.
		if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > serviceTTL {
			return "", fmt.Errorf("%w: service token lives longer than %s", problem.ErrUnauthorized, serviceTTL)
		}
		s.rememberVerified(key, verifiedToken{caller: claims.Issuer, until: claims.ExpiresAt.Time})
		return claims.Issuer, nil
	case ServiceAuthAPIKey:
		scheme, key, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(key))
		caller := c.Request().Header.Get(CallerHeader)
		if !strings.EqualFold(scheme, "ApiKey") || subtle.ConstantTimeCompare(sum[:], s.keySum[:]) != 1 || caller == "" {
			return "", fmt.Errorf("%w: service credentials required", problem.ErrUnauthorized)
		}
		return caller, nil
	default:
		return c.Request().Header.Get(CallerHeader), nil
	}
}

type callerKey struct{}

// GuardInternal requires service credentials on every /internal/ route, so
// no route can be mounted there unprotected. The module named by the path
// (/internal/<module>/...) is the callee: a credential made out to another
// module is refused.
func (s *ServiceAuth) GuardInternal(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rest, ok := strings.CutPrefix(c.Request().URL.Path, "/internal/")
		if !ok {
			return next(c)
		}
		callee, _, _ := strings.Cut(rest, "/")
		if callee == "" {
			return fmt.Errorf("%w: service credentials required", problem.ErrUnauthorized)
		}
		caller, err := s.verify(c, callee)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if scope := telemetry.ScopeFrom(ctx); scope != nil {
			scope.Caller = caller
		} else {
			c.SetRequest(c.Request().WithContext(context.WithValue(ctx, callerKey{}, caller)))
		}
		return next(c)
	}
}

// Caller returns the module that made an internal call ("" otherwise).
func Caller(ctx context.Context) string {
	if caller, ok := ctx.Value(callerKey{}).(string); ok {
		return caller
	}
	if s := telemetry.ScopeFrom(ctx); s != nil {
		return s.Caller
	}
	return ""
}

// wasVerified reports the caller of a token that passed verify for callee
// and has not expired since (nbf and iat only bound it from below).
func (s *ServiceAuth) wasVerified(key [2]string) (string, bool) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	v, ok := s.verified[key]
	if !ok {
		return "", false
	}
	if !s.now().Before(v.until) {
		delete(s.verified, key)
		return "", false
	}
	return v.caller, true
}

func (s *ServiceAuth) rememberVerified(key [2]string, v verifiedToken) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if len(s.verified) >= maxVerified {
		clear(s.verified)
	}
	s.verified[key] = v
}
