// Package auth issues and verifies access tokens and guards routes with
// them. Every module verifies; only users issues.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mitosis/platform/problem"
)

// leeway absorbs clock skew between processes.
const leeway = 30 * time.Second

// Tokens signs and verifies access tokens.
type Tokens struct {
	secret []byte
	issuer string
	ttl    time.Duration
	parser *jwt.Parser
	now    func() time.Time
}

// NewTokens returns a signer/verifier for HS256 tokens with the given secret.
func NewTokens(secret []byte, issuer string, ttl time.Duration) *Tokens {
	return &Tokens{
		secret: secret,
		issuer: issuer,
		ttl:    ttl,
		now:    time.Now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
	}
}

// Issued is a signed access token.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
}

// Issue signs a token for the subject.
func (t *Tokens) Issue(subject string) (Issued, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    t.issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return Issued{}, fmt.Errorf("sign token: %w", err)
	}
	return Issued{Token: signed, ExpiresIn: t.ttl}, nil
}

// Verify checks the signature, algorithm, issuer and times, and returns the
// subject. Every failure is ErrUnauthorized.
func (t *Tokens) Verify(raw string) (string, error) {
	var claims jwt.RegisteredClaims
	_, err := t.parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		return "", fmt.Errorf("%w: %s", problem.ErrUnauthorized, reason(err))
	}
	if claims.Subject == "" {
		return "", fmt.Errorf("%w: token has no subject", problem.ErrUnauthorized)
	}
	if slices.Contains(claims.Audience, internalAudience) {
		return "", fmt.Errorf("%w: service tokens are not accepted here", problem.ErrUnauthorized)
	}
	return claims.Subject, nil
}

func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "invalid token signature"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	}
	return "invalid token"
}
