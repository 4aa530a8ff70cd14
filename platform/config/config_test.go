package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

var modules = []string{"users", "orders", "payments"}

func env(vars map[string]string) config.Getenv { return func(k string) string { return vars[k] } }

func TestDefaults(t *testing.T) {
	cfg, err := config.Load(env(nil), modules)
	require.NoError(t, err)
	assert.Equal(t, config.Development, cfg.Env)
	assert.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr, "development listens on loopback")
	assert.Empty(t, cfg.Services)
	assert.Equal(t, config.Shared, cfg.Isolation("payments"))
	assert.Equal(t, config.RolesPerModule, cfg.Database.Roles)
	assert.True(t, cfg.Database.MigrateOnStart)
	assert.Equal(t, 15*time.Minute, cfg.Auth.TokenTTL)
	assert.Equal(t, config.Calls{
		Local:   config.LocalCallsDirect,
		Timeout: 5 * time.Second, Retries: 2, Backoff: 50 * time.Millisecond, MaxConcurrency: 64,
		BreakerFailures: 5, BreakerCooldown: 10 * time.Second,
	}, cfg.Calls)
	assert.Empty(t, cfg.HTTP.CORSAllowedOrigins)
	assert.Equal(t, 5*time.Second, cfg.HTTP.ReadHeaderTimeout)
	assert.Equal(t, 30*time.Second, cfg.HTTP.ReadTimeout)
	assert.Equal(t, config.BrokerPostgres, cfg.Events.Broker)
	assert.Equal(t, "nats://127.0.0.1:4222", cfg.Events.NATSURL)
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"SERVICES":                    " orders, payments ,orders,, ",
		"HTTP_ADDR":                   ":9191",
		"USERS_URL":                   "http://users:8080",
		"PAYMENTS_DATABASE_ISOLATION": "isolated",
		"PAYMENTS_DATABASE_URL":       "postgres://p@db/payments",
		"LOCAL_CALLS":                 "strict",
		"CALL_TIMEOUT":                "2s",
		"CALL_RETRIES":                "0",
		"CALL_BACKOFF":                "10ms",
		"CALL_MAX_CONCURRENCY":        "8",
		"BREAKER_FAILURES":            "3",
		"BREAKER_COOLDOWN":            "1s",
		"MIGRATE_ON_START":            "false",
		"CORS_ALLOWED_ORIGINS":        "https://shop.example.com, http://localhost:3000",
		"HTTP_READ_HEADER_TIMEOUT":    "1s",
		"EVENTS_BROKER":               "nats",
		"NATS_URL":                    "nats://nats-1:4222,nats://nats-2:4222",
	}), modules)
	require.NoError(t, err)
	assert.Equal(t, []string{"orders", "payments"}, cfg.Services, "trimmed, duplicates ignored")
	assert.Equal(t, ":9191", cfg.HTTPAddr)
	assert.Equal(t, "http://users:8080", cfg.Module("users").URL)
	assert.Equal(t, config.Isolated, cfg.Isolation("payments"))
	assert.Equal(t, config.Shared, cfg.Isolation("orders"))
	assert.Equal(t, config.Calls{
		Local:   config.LocalCallsStrict,
		Timeout: 2 * time.Second, Retries: 0, Backoff: 10 * time.Millisecond, MaxConcurrency: 8,
		BreakerFailures: 3, BreakerCooldown: time.Second,
	}, cfg.Calls)
	assert.False(t, cfg.Database.MigrateOnStart)
	assert.Equal(t, []string{"https://shop.example.com", "http://localhost:3000"}, cfg.HTTP.CORSAllowedOrigins)
	assert.Equal(t, time.Second, cfg.HTTP.ReadHeaderTimeout)
	assert.Equal(t, config.BrokerNATS, cfg.Events.Broker)
	assert.Equal(t, "nats://nats-1:4222,nats://nats-2:4222", cfg.Events.NATSURL)
}

func TestConfigFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.yaml")
	require.NoError(t, os.WriteFile(path, []byte("http_addr: \":7000\"\nmodules:\n  users:\n    url: http://from-file\n"), 0o600))
	cfg, err := config.Load(env(map[string]string{"CONFIG_FILE": path}), modules)
	require.NoError(t, err)
	assert.Equal(t, ":7000", cfg.HTTPAddr)
	assert.Equal(t, "http://from-file", cfg.Module("users").URL)

	cfg, err = config.Load(env(map[string]string{"CONFIG_FILE": path, "USERS_URL": "http://from-env"}), modules)
	require.NoError(t, err)
	assert.Equal(t, "http://from-env", cfg.Module("users").URL)
}

func TestInvalidValuesAreNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"env":        {map[string]string{"APP_ENV": "staging"}, "APP_ENV"},
		"isolation":  {map[string]string{"DATABASE_ISOLATION": "weird"}, "DATABASE_ISOLATION"},
		"module iso": {map[string]string{"ORDERS_DATABASE_ISOLATION": "weird"}, "ORDERS_DATABASE_ISOLATION"},
		"duration":   {map[string]string{"CALL_TIMEOUT": "soon"}, "CALL_TIMEOUT"},
		"bool":       {map[string]string{"MIGRATE_ON_START": "maybe"}, "MIGRATE_ON_START"},
		"roles":      {map[string]string{"DATABASE_ROLES": "many"}, "DATABASE_ROLES"},
		"cost":       {map[string]string{"PASSWORD_HASH_COST": "3"}, "PASSWORD_HASH_COST"},
		"retries":    {map[string]string{"CALL_RETRIES": "-1"}, "CALL_RETRIES"},
		"retries nb": {map[string]string{"CALL_RETRIES": "two"}, "CALL_RETRIES"},
		"backoff":    {map[string]string{"CALL_BACKOFF": "0s"}, "CALL_BACKOFF"},
		"concurrent": {map[string]string{"CALL_MAX_CONCURRENCY": "0"}, "CALL_MAX_CONCURRENCY"},
		"failures":   {map[string]string{"BREAKER_FAILURES": "0"}, "BREAKER_FAILURES"},
		"cooldown":   {map[string]string{"BREAKER_COOLDOWN": "-1s"}, "BREAKER_COOLDOWN"},
		"origin":     {map[string]string{"CORS_ALLOWED_ORIGINS": "shop.example.com"}, "CORS_ALLOWED_ORIGINS"},
		"wildcard":   {map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example.com/path"}, "CORS_ALLOWED_ORIGINS"},
		"timeout":    {map[string]string{"HTTP_READ_TIMEOUT": "0s"}, "HTTP_READ_TIMEOUT"},
		"broker":     {map[string]string{"EVENTS_BROKER": "kafka"}, "EVENTS_BROKER must be postgres or nats"},
		"local":      {map[string]string{"LOCAL_CALLS": "loose"}, `LOCAL_CALLS must be direct or strict, got "loose"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(tc.vars), modules)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestUnknownKeysInFileAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.yaml")
	require.NoError(t, os.WriteFile(path, []byte("htp_addr: typo\n"), 0o600))
	_, err := config.Load(env(map[string]string{"CONFIG_FILE": path}), modules)
	require.ErrorContains(t, err, "htp_addr")
}

// Development listens on loopback and is looser on the credential routes;
// production keeps the defaults. CONFIG_FILE and the environment override
// both, and a CONFIG_FILE saying production gets production's defaults.
func TestDevelopmentDefaults(t *testing.T) {
	load := func(vars map[string]string) config.Config {
		t.Helper()
		cfg, err := config.Load(env(vars), modules)
		require.NoError(t, err)
		return cfg
	}
	assert.Equal(t, "127.0.0.1:8080", load(nil).HTTPAddr)
	assert.Equal(t, ":8080", load(map[string]string{"APP_ENV": "production"}).HTTPAddr)
	assert.Equal(t, ":9000", load(map[string]string{"HTTP_ADDR": ":9000"}).HTTPAddr)

	dir := t.TempDir()
	prod := filepath.Join(dir, "prod.yaml")
	require.NoError(t, os.WriteFile(prod, []byte("env: production\n"), 0o600))
	cfg := load(map[string]string{"CONFIG_FILE": prod})
	assert.Equal(t, ":8080", cfg.HTTPAddr)
	assert.Equal(t, "127.0.0.1:8080", load(map[string]string{"CONFIG_FILE": prod, "APP_ENV": "development"}).HTTPAddr, "APP_ENV wins")

	dev := filepath.Join(dir, "dev.yaml")
	require.NoError(t, os.WriteFile(dev, []byte("http_addr: \":7000\"\n"), 0o600))
	cfg = load(map[string]string{"CONFIG_FILE": dev})
	assert.Equal(t, ":7000", cfg.HTTPAddr, "CONFIG_FILE overrides the development defaults")
}

// The public pages know the console's address when it was set, or in
// development when the admin listener is this machine's loopback; never
// by default in production.
func TestPublicConsoleURL(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{nil, "http://127.0.0.1:9090"},
		{map[string]string{"ADMIN_ADDR": "localhost:9191"}, "http://localhost:9191"},
		{map[string]string{"ADMIN_ADDR": "[::1]:9191"}, "http://[::1]:9191"},
		{map[string]string{"ADMIN_ADDR": "10.0.0.2:9090"}, ""},
		{map[string]string{"ADMIN_ADDR": "0.0.0.0:9090"}, ""},
		{map[string]string{"ADMIN_ADDR": "127.0.0.1:0"}, ""},
		{map[string]string{"ADMIN_ADDR": "off"}, ""},
		{map[string]string{"CONSOLE_URL": "https://ops.example.com/"}, "https://ops.example.com"},
		{map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x"}, ""},
		{map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "CONSOLE_URL": "https://ops.example.com"}, "https://ops.example.com"},
	} {
		cfg, err := config.Load(env(tc.vars), modules)
		require.NoError(t, err, "%v", tc.vars)
		assert.Equal(t, tc.want, cfg.PublicConsoleURL(), "%v", tc.vars)
	}
}

func TestObservabilitySettings(t *testing.T) {
	cfg, err := config.Load(env(nil), modules)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9090", cfg.Admin.Addr, "loopback by default")
	assert.True(t, cfg.Admin.Enabled())
	assert.Equal(t, config.LogText, cfg.LogFormat(), "text in development")
	assert.Equal(t, "info", cfg.Log.Level)
	assert.Equal(t, 5*time.Second, cfg.Health.MonitorInterval)

	cfg, err = config.Load(env(map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "ADMIN_ADDR": "OFF",
		"LOG_LEVEL": "DEBUG", "HEALTH_MONITOR_INTERVAL": "250ms"}), modules)
	require.NoError(t, err)
	assert.False(t, cfg.Admin.Enabled())
	assert.Equal(t, config.LogJSON, cfg.LogFormat(), "json in production")
	assert.Equal(t, "debug", cfg.Log.Level)
	assert.Equal(t, 250*time.Millisecond, cfg.Health.MonitorInterval)

	cfg, err = config.Load(env(map[string]string{"LOG_FORMAT": "json"}), modules)
	require.NoError(t, err)
	assert.Equal(t, config.LogJSON, cfg.LogFormat())

	for _, tc := range []struct {
		vars map[string]string
		want string // "" when valid
	}{
		{map[string]string{"ADMIN_ADDR": "9090"}, "ADMIN_ADDR must be host:port"},
		{map[string]string{"ADMIN_ADDR": ":8080"}, "must not share the public port"},
		{map[string]string{"HTTP_ADDR": "127.0.0.1:9090"}, "must not share the public port"},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or text"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL must be debug, info, warn or error"},
		{map[string]string{"HEALTH_MONITOR_INTERVAL": "soon"}, "HEALTH_MONITOR_INTERVAL must be a duration"},
		{map[string]string{"HEALTH_MONITOR_INTERVAL": "0s"}, "HEALTH_MONITOR_INTERVAL must be positive"},
		{map[string]string{"ADMIN_ADDR": "127.0.0.1:0", "HTTP_ADDR": ":0"}, ""},
		{map[string]string{"ADMIN_ADDR": "off", "HTTP_ADDR": "127.0.0.1:9090"}, ""},
		{map[string]string{"CONSOLE_URL": "https://console.example.com:8443"}, ""},
		{map[string]string{"CONSOLE_URL": "console.example.com"}, "CONSOLE_URL must be http(s)://host[:port]"},
		{map[string]string{"CONSOLE_URL": "https://console.example.com/console"}, "CONSOLE_URL must be http(s)://host[:port]"},
		{map[string]string{"CONSOLE_URL": "ftp://console.example.com"}, "CONSOLE_URL must be http(s)://host[:port]"},
		{map[string]string{"CONSOLE_URL": "http://me:pw@console.example.com"}, "CONSOLE_URL must be http(s)://host[:port]"},
	} {
		_, err := config.Load(env(tc.vars), modules)
		if tc.want == "" {
			assert.NoError(t, err, "%v", tc.vars)
			continue
		}
		require.Error(t, err, "%v", tc.vars)
		assert.Contains(t, err.Error(), tc.want)
	}
}
