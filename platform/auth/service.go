package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

// internalAudience marks the tokens modules sign for each other. A user
// token never carries it, so it can never open an internal route, and a
// service token is refused on public routes.
const internalAudience = "mitosis-internal"

// serviceTTL keeps stolen service tokens short-lived.
const serviceTTL = 5 * time.Minute

// Services signs and verifies the tokens modules attach to internal calls,
// HS256 with the secret every process shares.
type Services struct {
	secret []byte
	issuer string
	parser *jwt.Parser
	now    func() time.Time
}

// NewServices returns service tokens signed with secret.
func NewServices(secret []byte, issuer string) *Services {
	return &Services{
		secret: secret,
		issuer: issuer,
		now:    time.Now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(internalAudience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
	}
}

// IssueService signs a token that identifies the calling module.
func (t *Services) IssueService(caller string) (Issued, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   "service:" + caller,
		Issuer:    t.issuer,
		Audience:  jwt.ClaimStrings{internalAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(serviceTTL)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return Issued{}, fmt.Errorf("sign service token: %w", err)
	}
	return Issued{Token: signed, ExpiresIn: serviceTTL}, nil
}

// VerifyService checks a service token and returns the calling module.
func (t *Services) VerifyService(raw string) (string, error) {
	var claims jwt.RegisteredClaims
	_, err := t.parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		return "", fmt.Errorf("%w: %s", problem.ErrUnauthorized, reason(err))
	}
	caller, ok := strings.CutPrefix(claims.Subject, "service:")
	if !ok || !slices.Contains(claims.Audience, internalAudience) {
		return "", fmt.Errorf("%w: service credentials required", problem.ErrUnauthorized)
	}
	return caller, nil
}

type callerKey struct{}

// GuardInternal requires service credentials on every /internal/ route, so
// no route can be mounted there unprotected.
func (t *Services) GuardInternal(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Request().URL.Path, "/internal/") {
			return next(c)
		}
		token, err := bearer(c)
		if err != nil {
			return err
		}
		caller, err := t.VerifyService(token)
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), callerKey{}, caller)))
		return next(c)
	}
}

// Caller returns the module that made an internal call ("" otherwise).
func Caller(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}

// ServiceCredentials signs and caches the token a process attaches to its
// calls to other modules.
type ServiceCredentials struct {
	tokens *Services
	caller string

	mu      sync.Mutex
	current string
	renewAt time.Time
}

// NewServiceCredentials returns credentials naming caller.
func NewServiceCredentials(tokens *Services, caller string) *ServiceCredentials {
	return &ServiceCredentials{tokens: tokens, caller: caller}
}

// Authorization returns the Authorization header value for a call.
func (s *ServiceCredentials) Authorization() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tokens.now()
	if s.current == "" || now.After(s.renewAt) {
		issued, err := s.tokens.IssueService(s.caller)
		if err != nil {
			return "", err
		}
		s.current = "Bearer " + issued.Token
		s.renewAt = now.Add(issued.ExpiresIn / 2)
	}
	return s.current, nil
}
