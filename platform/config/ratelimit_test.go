package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]config.Rate{
		"20/s burst 40":   {Events: 20, Per: time.Second, Burst: 40},
		"5/m":             {Events: 5, Per: time.Minute, Burst: 5},
		"100/10s burst 3": {Events: 100, Per: 10 * time.Second, Burst: 3},
		" 1/H ":           {Events: 1, Per: time.Hour, Burst: 1},
		"off":             {Off: true},
	} {
		got, err := config.ParseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "20", "0/s", "-1/s", "20/fortnight", "20/s burst", "20/s burst 0", "20/s limit 4", "20/0s"} {
		_, err := config.ParseRate(in)
		require.Error(t, err, "%q", in)
	}
}

func TestRateLimitGroups(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "SIGNING_KEY_SECRET": "y"}), modules)
	require.NoError(t, err)
	require.Equal(t, map[string]config.RateLimit{
		"default":  {Prefix: "/api/", Limit: "20/s burst 40"},
		"auth":     {Prefix: "/api/v1/auth", Limit: "5/m burst 5"},
		"register": {Prefix: "/api/v1/users", Method: "POST", Limit: "5/m burst 5"},
	}, cfg.Gateway.RateLimits, "strict in production")

	// Development is looser on the credential routes, so a first walk
	// through the README does not trip them.
	cfg, err = config.Load(env(nil), modules)
	require.NoError(t, err)
	require.Equal(t, map[string]config.RateLimit{
		"default":  {Prefix: "/api/", Limit: "20/s burst 40"},
		"auth":     {Prefix: "/api/v1/auth", Limit: "60/m burst 20"},
		"register": {Prefix: "/api/v1/users", Method: "POST", Limit: "60/m burst 20"},
	}, cfg.Gateway.RateLimits)

	cfg, err = config.Load(env(map[string]string{"RATE_LIMIT_AUTH": "10/m burst 2", "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}), modules)
	require.NoError(t, err)
	require.Equal(t, "10/m burst 2", cfg.Gateway.RateLimits["auth"].Limit)
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.1"}, cfg.Gateway.TrustedProxies)

	_, err = config.Load(env(map[string]string{"RATE_LIMIT_DEFAULT": "lots", "GATEWAY_TRUSTED_PROXIES": "somewhere"}), modules)
	require.ErrorContains(t, err, "RATE_LIMIT_DEFAULT")
	require.ErrorContains(t, err, "GATEWAY_TRUSTED_PROXIES")
}
