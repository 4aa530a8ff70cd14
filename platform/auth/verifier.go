package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

// leeway absorbs clock skew between processes.
const leeway = 30 * time.Second

// ErrUnknownKey means no public key has the token's kid.
var ErrUnknownKey = errors.New("unknown signing key")

// ErrKeysUnavailable means the public keys could not be fetched (users is
// unreachable or failing), so a token with a kid not yet cached can be
// neither accepted nor refused: the request is answered 503, never 401,
// which would tell a client with a good token to log in again.
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// KeySource finds the public key that verifies tokens with a given kid.
// users reads its own keys in-process; every other process fetches users'
// JWKS (RemoteKeys). It returns ErrUnknownKey when no key has the kid, and
// ErrKeysUnavailable when the keys cannot be read to tell.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// userClaims is the JWT body of an access token.
type userClaims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
}

// Verifier checks access tokens: EdDSA only, a known kid, and exp, nbf, iat,
// iss and aud with a small leeway.
type Verifier struct {
	keys   KeySource
	parser *jwt.Parser
}

// NewVerifier returns a verifier of tokens issued by issuer for audience.
// now is the clock (time.Now outside tests).
func NewVerifier(keys KeySource, issuer, audience string, now func() time.Time) *Verifier {
	return &Verifier{
		keys: keys,
		parser: jwt.NewParser(
			// Pinned: "none", and HS256 made with the public key as its
			// secret, never reach the key function.
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
	}
}

// Verify returns the claims of a valid token; every failure is
// ErrUnauthorized, with the reason in the detail, except keys that cannot
// be fetched, which is ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	var claims userClaims
	_, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrUnknownKey
		}
		return v.keys.PublicKey(ctx, kid)
	})
	if errors.Is(err, ErrKeysUnavailable) {
		// The cause (a timeout, a refused connection) is logged, not
		// wrapped: it is users' trouble, not this request's deadline.
		return Claims{}, problem.WithDetail(fmt.Errorf("%w: %v", problem.ErrUnavailable, err),
			"The signing keys cannot be read; retry shortly.")
	}
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %s", problem.ErrUnauthorized, reason(err))
	}
	if claims.Subject == "" {
		return Claims{}, fmt.Errorf("%w: token has no subject", problem.ErrUnauthorized)
	}
	if !slices.Contains([]string{RoleCustomer, RoleAdmin}, claims.Role) {
		return Claims{}, fmt.Errorf("%w: token has no valid role", problem.ErrUnauthorized)
	}
	return Claims{Subject: claims.Subject, Role: claims.Role}, nil
}

// bearerSeen is a bearer token v has verified for the request whose context
// holds it, with its claims.
type bearerSeen struct {
	by     *Verifier
	raw    string
	claims Claims
}

type bearerSeenKey struct{}

// VerifyRequest is Verify for the bearer token of c's request, verified
// once per request and verifier: in one process the gateway's rate limit
// and the route's Required both read the token, and the Ed25519 check of
// its signature is most of what verifying costs. A token that fails is
// not remembered.
func (v *Verifier) VerifyRequest(c echo.Context, raw string) (Claims, error) {
	ctx := c.Request().Context()
	if seen, ok := ctx.Value(bearerSeenKey{}).(bearerSeen); ok && seen.by == v && seen.raw == raw {
		return seen.claims, nil
	}
	claims, err := v.Verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	c.SetRequest(c.Request().WithContext(context.WithValue(ctx, bearerSeenKey{}, bearerSeen{by: v, raw: raw, claims: claims})))
	return claims, nil
}

// Required rejects requests without a valid bearer token and puts the
// claims into the request context.
func (v *Verifier) Required(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, err := Bearer(c)
		if err != nil {
			return err
		}
		claims, err := v.VerifyRequest(c, token)
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(WithClaims(c.Request().Context(), claims)))
		return next(c)
	}
}

func reason(err error) string {
	switch {
	case errors.Is(err, ErrUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token not addressed to this API"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "invalid token signature"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	}
	return "invalid token"
}
