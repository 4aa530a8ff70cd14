package auth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"mitosis/platform/auth"
	"mitosis/platform/config"
)

// A process without the issuer finds its keys at JWKS_URL, else where
// the issuer runs: its own URL, or OTHER_MODULES_URL when it has none.
func TestJWKSURLFollowsTheIssuersAddress(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{Auth: config.Auth{JWKSURL: "https://keys.example.com/jwks.json"}, OtherModulesURL: "http://others:8080"}, "https://keys.example.com/jwks.json"},
		{config.Config{Modules: map[string]config.Module{"users": {URL: "http://users:8080/"}}, OtherModulesURL: "http://others:8080"}, "http://users:8080" + auth.JWKSPath},
		{config.Config{OtherModulesURL: "http://others:8080"}, "http://others:8080" + auth.JWKSPath},
		{config.Config{}, ""},
	} {
		assert.Equal(t, tc.want, auth.JWKSURL(tc.cfg, "users"))
	}
}
