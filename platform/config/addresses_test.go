package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

func TestModuleURLsAreHTTPBaseURLs(t *testing.T) {
	for _, good := range []string{"http://users:8080", "https://users.internal", "http://127.0.0.1:1/", "http://[::1]:8080"} {
		_, err := config.Load(env(map[string]string{"USERS_URL": good}), modules)
		require.NoError(t, err, good)
	}
	for _, bad := range []string{"users:8080", "ftp://x", "http://", "http://:8080", "http://users:8080/api", "http://users:99999",
		"http://u:p@users:8080", "http://users:8080?x=1", "//users:8080"} {
		_, err := config.Load(env(map[string]string{"USERS_URL": bad}), modules)
		require.ErrorContains(t, err, "USERS_URL must be http(s)://host[:port]", bad)
		require.NotContains(t, err.Error(), ":p@", "no password in the message")
	}
}

// OTHER_MODULES_URL stands for every module without a URL of its own,
// except in a process that leaves modules out (it runs the rest itself):
// there a module it leaves out needs its own.
func TestOtherModulesURL(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{"SERVICES": "orders", "OTHER_MODULES_URL": "http://others:8080", "USERS_URL": "http://users:8080"}), modules)
	require.NoError(t, err)
	assert.Equal(t, "http://users:8080", cfg.ModuleURL("users"), "its own URL first")
	assert.Equal(t, "http://others:8080", cfg.ModuleURL("payments"))
	assert.False(t, cfg.LeavesOut())

	cfg, err = config.Load(env(map[string]string{"SERVICES": "-users,-orders", "OTHER_MODULES_URL": "http://others:8080", "USERS_URL": "http://users:8080"}), modules)
	require.NoError(t, err)
	assert.True(t, cfg.LeavesOut())
	assert.Equal(t, []string{"-users", "-orders"}, cfg.Services)
	assert.Equal(t, "http://users:8080", cfg.ModuleURL("users"))
	assert.Empty(t, cfg.ModuleURL("orders"), "this process is where OTHER_MODULES_URL leads")

	for _, bad := range []string{"others:8080", "http://others:8080/api", "http://u:p@others:8080"} {
		_, err := config.Load(env(map[string]string{"OTHER_MODULES_URL": bad}), modules)
		require.ErrorContains(t, err, "OTHER_MODULES_URL must be http(s)://host[:port]", bad)
		require.NotContains(t, err.Error(), ":p@", "no password in the message")
	}
}

func TestDatabaseURLsArePostgresURLs(t *testing.T) {
	for _, good := range []string{"postgres://u:p@db:5432/app?sslmode=require", "postgresql://db/app", "postgres:///app?host=/run/postgresql"} {
		_, err := config.Load(env(map[string]string{"DATABASE_URL": good, "ORDERS_DATABASE_URL": good}), modules)
		require.NoError(t, err, good)
	}
	for _, bad := range []string{"mysql://u:secret@db/app", "host=db user=app", "postgres://u:secret@/app", "postgres://db:port/app"} {
		_, err := config.Load(env(map[string]string{"DATABASE_URL": bad, "ORDERS_DATABASE_URL": bad}), modules)
		require.ErrorContains(t, err, "DATABASE_URL must be a postgres:// URL", bad)
		require.ErrorContains(t, err, "ORDERS_DATABASE_URL must be a postgres:// URL", bad)
		require.NotContains(t, err.Error(), "secret", "no password in the message")
	}
}

func TestListenAddressAndBrokerURLs(t *testing.T) {
	for _, good := range []map[string]string{
		{"HTTP_ADDR": "127.0.0.1:0"}, {"HTTP_ADDR": "[::]:8080"}, {"HTTP_ADDR": "localhost:8080"},
		{"EVENTS_BROKER": "nats", "NATS_URL": "nats://a:4222, tls://b:4222,c:4222"},
		{"JWKS_URL": "https://users.internal/.well-known/jwks.json"},
	} {
		_, err := config.Load(env(good), modules)
		require.NoError(t, err, good)
	}
	for want, bad := range map[string]map[string]string{
		"HTTP_ADDR must be host:port": {"HTTP_ADDR": "8080"}, "HTTP_ADDR must be": {"HTTP_ADDR": ":http"},
		"NATS_URL": {"EVENTS_BROKER": "nats", "NATS_URL": "http://a:4222"},
		"JWKS_URL": {"JWKS_URL": "users/.well-known/jwks.json"},
	} {
		_, err := config.Load(env(bad), modules)
		require.ErrorContains(t, err, want, bad)
	}
}

func TestShutdownSettings(t *testing.T) {
	cfg, err := config.Load(env(nil), modules)
	require.NoError(t, err)
	assert.Equal(t, config.Shutdown{Delay: 0, Timeout: 25 * time.Second}, cfg.Shutdown, "development stops at once")

	cfg, err = config.Load(env(map[string]string{"APP_ENV": "production"}), modules)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, cfg.Shutdown.Delay, "production waits for load balancers")

	cfg, err = config.Load(env(map[string]string{"APP_ENV": "production", "SHUTDOWN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "40s"}), modules)
	require.NoError(t, err)
	assert.Equal(t, config.Shutdown{Delay: 0, Timeout: 40 * time.Second}, cfg.Shutdown, "an explicit 0 stays 0")

	_, err = config.Load(env(map[string]string{"SHUTDOWN_DELAY": "-1s", "SHUTDOWN_TIMEOUT": "0s"}), modules)
	require.ErrorContains(t, err, "SHUTDOWN_DELAY must not be negative")
	require.ErrorContains(t, err, "SHUTDOWN_TIMEOUT must be positive")
}

// TestEveryProblemAtOnce: a configuration with several problems names each
// on its own line, parse errors and invalid values alike, and still
// returns what it loaded.
func TestEveryProblemAtOnce(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"APP_ENV": "staging", "CALL_TIMEOUT": "soon", "USERS_URL": "users:8080", "BREAKER_FAILURES": "0", "HTTP_ADDR": ":9000",
	}), modules)
	var problems config.Problems
	require.True(t, errors.As(err, &problems), "%v", err)
	require.Len(t, problems, 4, problems.Error())
	require.Len(t, strings.Split(err.Error(), "\n"), 4)
	for i, want := range []string{"APP_ENV", "BREAKER_FAILURES", "CALL_TIMEOUT", "USERS_URL"} {
		require.Contains(t, problems[i], want, "sorted, one per line")
	}
	assert.Equal(t, ":9000", cfg.HTTPAddr)
	assert.Equal(t, 5*time.Second, cfg.Calls.Timeout, "an unparsable value leaves the default")
}
