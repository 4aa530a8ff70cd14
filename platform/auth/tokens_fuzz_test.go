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

// Verify never panics, and every refusal is ErrUnauthorized. The fuzzer
// holds no key, so whatever it accepts can only be the one token the seed
// issued: its subject, with the customer role (never a forged admin).
func FuzzVerify(f *testing.F) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	const subject = "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11"
	key := SigningKey{ID: KeyID(pub), Private: priv}
	issuer := NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	verifier := NewVerifier(fuzzKeys{kid: key.ID, pub: pub}, "mitosis", "mitosis-api", time.Now)
	valid, err := issuer.Issue(key, subject, RoleCustomer)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	sign := func(method jwt.SigningMethod, signWith any, change jwt.MapClaims) string {
		c := jwt.MapClaims{"sub": subject, "role": RoleCustomer, "iss": "mitosis", "aud": "mitosis-api",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		for k, v := range change {
			c[k] = v
		}
		t := jwt.NewWithClaims(method, c)
		t.Header["kid"] = key.ID
		s, err := t.SignedString(signWith)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	for _, s := range []string{
		valid.Token, valid.Token + "x", "Bearer " + valid.Token,
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"role": RoleAdmin}),
		sign(jwt.SigningMethodHS256, []byte(pub), jwt.MapClaims{"role": RoleAdmin}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"aud": "other"}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"iss": "other"}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"role": "root"}),
		sign(jwt.SigningMethodEdDSA, priv, jwt.MapClaims{"sub": ""}),
		"", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.AAAA",
		"eyJhbGciOiJFZERTQSIsImtpZCI6IngifQ.e30.e30", "\x00\xff",
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
		if claims != (Claims{Subject: subject, Role: RoleCustomer}) {
			t.Fatalf("Verify(%q) accepted %+v", raw, claims)
		}
	})
}
