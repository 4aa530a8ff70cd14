package settings_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/modules/gateway/internal/settings"
	"mitosis/platform/config"
)

// load reads the configuration of a binary with only the gateway.
func load(vars map[string]string) (settings.Settings, error) {
	cfg, err := config.Load(func(k string) string { return vars[k] }, []string{"gateway"}, settings.Section("gateway"))
	return config.SectionOf[settings.Settings](cfg, "gateway"), err
}

func TestRateLimitGroups(t *testing.T) {
	cfg, err := load(map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "SIGNING_KEY_SECRET": "y"})
	require.NoError(t, err)
	require.Equal(t, map[string]settings.RateLimit{
		"default":  {Prefix: "/api/", Limit: "20/s burst 40"},
		"auth":     {Prefix: "/api/v1/auth", Limit: "5/m burst 5"},
		"register": {Prefix: "/api/v1/users", Method: "POST", Limit: "5/m burst 5"},
	}, cfg.RateLimits, "strict in production")

	// Development is looser on the credential routes, so a first walk
	// through the README does not trip them.
	cfg, err = load(nil)
	require.NoError(t, err)
	require.Equal(t, map[string]settings.RateLimit{
		"default":  {Prefix: "/api/", Limit: "20/s burst 40"},
		"auth":     {Prefix: "/api/v1/auth", Limit: "60/m burst 20"},
		"register": {Prefix: "/api/v1/users", Method: "POST", Limit: "60/m burst 20"},
	}, cfg.RateLimits)

	cfg, err = load(map[string]string{"RATE_LIMIT_AUTH": "10/m burst 2", "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1", "GATEWAY_PART_TIMEOUT": "1s"})
	require.NoError(t, err)
	require.Equal(t, "10/m burst 2", cfg.RateLimits["auth"].Limit)
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.1"}, cfg.TrustedProxies)

	require.Equal(t, time.Second, cfg.PartTimeout)
	require.Equal(t, 30*time.Second, cfg.ProxyTimeout)

	_, err = load(map[string]string{"RATE_LIMIT_DEFAULT": "lots", "GATEWAY_TRUSTED_PROXIES": "somewhere", "GATEWAY_PROXY_TIMEOUT": "soon"})
	require.ErrorContains(t, err, "RATE_LIMIT_DEFAULT")
	require.ErrorContains(t, err, "GATEWAY_TRUSTED_PROXIES")
	require.ErrorContains(t, err, "GATEWAY_PROXY_TIMEOUT must be a duration")
}

// The file's modules.gateway section overrides the defaults, entry by
// entry of the rate limits; a key the section lacks is refused by name.
func TestGatewaySectionInFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("modules:\n  gateway:\n    part_timeout: 3s\n    rate_limits:\n      auth: {prefix: /api/v1/auth, limit: \"1/m\"}\n"), 0o600))
	cfg, err := load(map[string]string{"CONFIG_FILE": good})
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, cfg.PartTimeout)
	require.Equal(t, "1/m", cfg.RateLimits["auth"].Limit)
	require.Equal(t, "60/m burst 20", cfg.RateLimits["register"].Limit, "the other groups keep their defaults")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("modules:\n  gateway:\n    part_timout: 3s\n    rate_limits:\n      auth: {prefx: /api/v1/auth}\n"), 0o600))
	_, err = load(map[string]string{"CONFIG_FILE": bad})
	require.ErrorContains(t, err, "modules.gateway.part_timout (line 3): unknown key")
	require.ErrorContains(t, err, "modules.gateway.rate_limits.auth.prefx (line 5): unknown key")
}
