package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SigningKey is an Ed25519 private key and its key id.
type SigningKey struct {
	ID      string
	Private ed25519.PrivateKey
}

// KeyID is the RFC 7638 thumbprint of an Ed25519 public key: stable, and
// derived from the key itself, so two keys never share an id.
func KeyID(pub ed25519.PublicKey) string {
	x := base64.RawURLEncoding.EncodeToString(pub)
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Issued is a signed access token.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
}

// Issuer signs access tokens. Only users holds one.
type Issuer struct {
	issuer, audience string
	ttl              time.Duration
	now              func() time.Time
}

// NewIssuer returns an issuer of tokens valid for ttl.
func NewIssuer(issuer, audience string, ttl time.Duration, now func() time.Time) *Issuer {
	return &Issuer{issuer: issuer, audience: audience, ttl: ttl, now: now}
}

// TTL is how long issued tokens live.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue signs a token for subject with role, with key's kid in the header.
func (i *Issuer) Issue(key SigningKey, subject, role string) (Issued, error) {
	now := i.now()
	claims := userClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(i.ttl)),
		},
		Role: role,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = key.ID
	signed, err := t.SignedString(key.Private)
	if err != nil {
		return Issued{}, fmt.Errorf("sign token: %w", err)
	}
	return Issued{Token: signed, ExpiresIn: i.ttl}, nil
}
