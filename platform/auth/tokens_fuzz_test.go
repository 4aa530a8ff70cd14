package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mitosis/platform/problem"
)

// fuzzKeys is a KeySource over one key.
type fuzzKeys struct {
	kid string
	pub ed25519.PublicKey
}

func (k fuzzKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if kid != k.kid {
		return nil, ErrUnknownKey
	}
	return k.pub, nil
}

// Verify never panics: a token is accepted only with its subject and a
// valid role, and every refusal is ErrUnauthorized.
func FuzzVerify(f *testing.F) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	key := SigningKey{ID: KeyID(pub), Private: priv}
	issuer := NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := NewVerifier(fuzzKeys{kid: key.ID, pub: pub}, "mitosis", "mitosis-api", time.Now)
	valid, err := issuer.Issue(key, "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", RoleCustomer)
	if err != nil {
		f.Fatal(err)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "iss": "mitosis"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "iss": "mitosis", "aud": "mitosis-api", "role": RoleAdmin}).SignedString([]byte(pub))
	for _, s := range []string{
		valid.Token, valid.Token + "x", none, hs, "", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.AAAA",
		"eyJhbGciOiJFZERTQSIsImtpZCI6IngifQ.e30.e30", "Bearer " + valid.Token, "\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := verifier.Verify(context.Background(), raw)
		if err != nil {
			if !errors.Is(err, problem.ErrUnauthorized) {
				t.Fatalf("Verify(%q): %v is not ErrUnauthorized", raw, err)
			}
			return
		}
		if claims.Subject == "" || (claims.Role != RoleCustomer && claims.Role != RoleAdmin) {
			t.Fatalf("Verify(%q) accepted %+v", raw, claims)
		}
	})
}
