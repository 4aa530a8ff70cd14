package config_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

// inDir runs the test in a fresh working directory holding files.
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		require.NoError(t, os.WriteFile(name, []byte(content), 0o600))
	}
}

func TestDevelopmentReadsDotEnvThenDotEnvLocal(t *testing.T) {
	inDir(t, map[string]string{
		".env":       "HTTP_ADDR=:7001\nUSERS_URL=http://from-dotenv\nORDERS_URL=http://from-dotenv\nPAYMENTS_URL=http://from-dotenv\n",
		".env.local": "export ORDERS_URL=http://from-local\nPAYMENTS_URL='http://from-local'\n",
	})
	getenv, err := config.WithEnvFiles(env(map[string]string{"PAYMENTS_URL": "http://from-process"}))
	require.NoError(t, err)
	cfg, err := config.Load(getenv, modules)
	require.NoError(t, err)
	require.Equal(t, ":7001", cfg.HTTPAddr)
	require.Equal(t, "http://from-dotenv", cfg.Module("users").URL, ".env alone")
	require.Equal(t, "http://from-local", cfg.Module("orders").URL, ".env.local wins over .env")
	require.Equal(t, "http://from-process", cfg.Module("payments").URL, "the process environment wins over both")
	_, present := os.LookupEnv("USERS_URL")
	require.False(t, present, "the files are read, never exported")
}

func TestNoEnvFilesIsFine(t *testing.T) {
	inDir(t, nil)
	getenv, err := config.WithEnvFiles(env(map[string]string{"HTTP_ADDR": ":7002"}))
	require.NoError(t, err)
	require.Equal(t, ":7002", getenv("HTTP_ADDR"))
}

func TestProductionReadsOnlyEnvFile(t *testing.T) {
	inDir(t, map[string]string{".env": "HTTP_ADDR=:7001\n", ".env.local": "HTTP_ADDR=:7003\n", "prod.env": "HTTP_ADDR=:7004\nJWT_ISSUER=from-file\n"})
	getenv, err := config.WithEnvFiles(env(map[string]string{"APP_ENV": "production"}))
	require.NoError(t, err)
	require.Empty(t, getenv("HTTP_ADDR"), "production ignores .env and .env.local")

	getenv, err = config.WithEnvFiles(env(map[string]string{"APP_ENV": "production", "ENV_FILE": "prod.env", "JWT_ISSUER": "from-process"}))
	require.NoError(t, err)
	require.Equal(t, ":7004", getenv("HTTP_ADDR"))
	require.Equal(t, "from-process", getenv("JWT_ISSUER"))
}

func TestEnvFileReplacesTheDevelopmentFiles(t *testing.T) {
	inDir(t, map[string]string{".env": "HTTP_ADDR=:7001\nJWT_ISSUER=dotenv\n", "other.env": "HTTP_ADDR=:7005\n"})
	getenv, err := config.WithEnvFiles(env(map[string]string{"ENV_FILE": "other.env"}))
	require.NoError(t, err)
	require.Equal(t, ":7005", getenv("HTTP_ADDR"))
	require.Empty(t, getenv("JWT_ISSUER"), ".env is not read when ENV_FILE names a file")
}

func TestEnvFileErrorsNameTheFile(t *testing.T) {
	inDir(t, map[string]string{".env": "NOT A VALID LINE\n"})
	_, err := config.WithEnvFiles(env(nil))
	require.ErrorContains(t, err, ".env")

	_, err = config.WithEnvFiles(env(map[string]string{"APP_ENV": "production", "ENV_FILE": "missing.env"}))
	require.ErrorContains(t, err, "missing.env", "a named file must exist")
}
