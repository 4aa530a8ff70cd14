package config

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The console's configuration never shows a secret or a URL's password.
func TestRedacted(t *testing.T) {
	vars := map[string]string{
		"APP_ENV":                     "development",
		"DATABASE_URL":                "postgres://app:hunter2-db@db.internal:5432/app?sslmode=disable&password=hunter3-q",
		"SERVICE_SECRET":              "hunter4-service-secret-hunter4-service",
		"SERVICE_API_KEY":             "hunter5-api-key-hunter5-api-key-hunter5",
		"SIGNING_KEY_SECRET":          "hunter6-signing-secret-hunter6-signing",
		"PAYMENTS_DATABASE_URL":       "postgres://pay:hunter7-pay@db2/pay",
		"NATS_URL":                    "nats://u:hunter8-nats@nats:4222",
		"TOKEN_TTL":                   "5m",
		"ADMIN_PEERS":                 "http://10.0.0.2:9090",
		"CORS_ALLOWED_ORIGINS":        "https://shop.example.com",
		"PAYMENTS_DATABASE_ISOLATION": "isolated",
	}
	type saga struct {
		Deadline  time.Duration `yaml:"deadline"`
		APISecret string        `yaml:"api_secret" env:"API_SECRET"`
	}
	vars["SAGA_API_SECRET"] = "hunter9-saga"
	orders := NewSection("orders", "SAGA", func(string) saga { return saga{Deadline: time.Minute} })
	cfg, err := Load(func(k string) string { return vars[k] }, []string{"users", "payments", "orders"}, orders)
	require.NoError(t, err)
	red, err := cfg.Redacted()
	require.NoError(t, err)
	out, err := json.Marshal(red)
	require.NoError(t, err)
	for _, secret := range []string{"hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7", "hunter8", "hunter9"} {
		require.NotContains(t, string(out), secret)
	}
	require.Contains(t, string(out), "db.internal:5432", "the rest of a URL stays")
	require.Contains(t, string(out), `"token_ttl":"5m0s"`, "durations stay readable")
	require.Contains(t, string(out), "[redacted]")
	require.Contains(t, string(out), "http://10.0.0.2:9090")

	// Each module's part is shown too: where it runs, its data, its own settings.
	modules, ok := red["modules"].(map[string]any)
	require.True(t, ok, "modules in %s", out)
	payments, ok := modules["payments"].(map[string]any)
	require.True(t, ok, "payments in %v", modules)
	require.Equal(t, map[string]any{"isolation": "isolated", "url": "postgres://pay:redacted@db2/pay"}, payments["database"])
	ordersPart, ok := modules["orders"].(map[string]any)
	require.True(t, ok, "orders in %v", modules)
	require.Equal(t, "1m0s", ordersPart["deadline"])
	require.Equal(t, "[redacted]", ordersPart["api_secret"])
}
