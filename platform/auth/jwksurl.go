package auth

import (
	"fmt"
	"strings"

	"mitosis/platform/config"
)

// JWKSURL is where a process in which the token issuer (the module named
// issuer) does not run fetches its public keys: JWKS_URL, or the issuer's
// URL (its own or OTHER_MODULES_URL) + JWKSPath; "" when neither is set.
func JWKSURL(cfg config.Config, issuer string) string {
	if cfg.Auth.JWKSURL != "" {
		return cfg.Auth.JWKSURL
	}
	if base := strings.TrimRight(cfg.ModuleURL(issuer), "/"); base != "" {
		return base + JWKSPath
	}
	return ""
}

// MissingJWKS is the startup problem of a production process that cannot
// verify access tokens: neither JWKS_URL nor the issuer's URL is set.
func MissingJWKS(issuer string) string {
	return fmt.Sprintf("JWKS_URL or %s_URL is required to verify access tokens where %s does not run", strings.ToUpper(issuer), issuer)
}
