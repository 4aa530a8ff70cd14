package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mitosis/platform/problem"
)

// Verify never panics: a token is accepted only with its subject, and
// every refusal is ErrUnauthorized.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret-fuzz-secret-0123")
	tokens := NewTokens(secret, "mitosis", time.Minute)
	valid, err := tokens.Issue("0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11")
	if err != nil {
		f.Fatal(err)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "iss": "mitosis"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, s := range []string{
		valid.Token, valid.Token + "x", none, "", ".", "..", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.AAAA",
		"eyJhbGciOiJSUzI1NiJ9.e30.e30", "Bearer " + valid.Token, "\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		subject, err := tokens.Verify(raw)
		if err != nil {
			if !errors.Is(err, problem.ErrUnauthorized) {
				t.Fatalf("Verify(%q): %v is not ErrUnauthorized", raw, err)
			}
			return
		}
		if subject == "" {
			t.Fatalf("Verify(%q) accepted a token without a subject", raw)
		}
	})
}
