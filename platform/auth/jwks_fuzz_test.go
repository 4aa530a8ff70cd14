package auth

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
)

// The JWKS comes over the network: whatever it holds, decoding it never
// panics and yields only well-formed Ed25519 keys, each under a kid.
func FuzzJWKS(f *testing.F) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := json.Marshal(JWKS{Keys: []JWK{PublicJWK(KeyID(pub), pub)}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(valid), `{"keys":[]}`, `{"keys":null}`, `{}`, `[]`, `null`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"short"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"}]}`,
		`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + PublicJWK("", pub).X + `","kid":""}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + PublicJWK("", pub).X + `","kid":"k","use":"enc"}]}`,
		`{"keys":[{"kty":"OKP","crv":"X25519","x":"` + PublicJWK("", pub).X + `","kid":"k"}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var set JWKS
		if json.Unmarshal([]byte(body), &set) != nil {
			return
		}
		for kid, key := range set.keys() {
			if kid == "" || len(key) != ed25519.PublicKeySize {
				t.Fatalf("keys() of %q gave %q: %x", body, kid, key)
			}
		}
	})
}
