package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/modules/users/internal/httpapi"
	"mitosis/platform/config"
)

func load(vars map[string]string) (httpapi.Settings, error) {
	cfg, err := config.Load(func(k string) string { return vars[k] }, []string{"users"}, httpapi.Section("users"))
	return config.SectionOf[httpapi.Settings](cfg, "users"), err
}

// The console's logins are limited as the gateway's auth group is: strict
// in production, looser in development, set by USERS_CONSOLE_LOGIN_LIMIT,
// and a rate that does not parse is refused at load.
func TestConsoleLoginLimit(t *testing.T) {
	s, err := load(map[string]string{"APP_ENV": "production", "SERVICE_SECRET": "x", "SIGNING_KEY_SECRET": "y"})
	require.NoError(t, err)
	require.Equal(t, "5/m burst 5", s.ConsoleLoginLimit)
	s, err = load(nil)
	require.NoError(t, err)
	require.Equal(t, "60/m burst 20", s.ConsoleLoginLimit)
	s, err = load(map[string]string{"USERS_CONSOLE_LOGIN_LIMIT": "3/m burst 1"})
	require.NoError(t, err)
	b, err := s.LoginBuckets()
	require.NoError(t, err)
	require.Equal(t, 1, b.Rate().Burst)

	s, err = load(map[string]string{"USERS_CONSOLE_LOGIN_LIMIT": "off"})
	require.NoError(t, err)
	b, err = s.LoginBuckets()
	require.NoError(t, err)
	require.Nil(t, b, "off: not limited")

	_, err = load(map[string]string{"USERS_CONSOLE_LOGIN_LIMIT": "lots"})
	require.ErrorContains(t, err, "USERS_CONSOLE_LOGIN_LIMIT")

	b, err = httpapi.Settings{}.LoginBuckets()
	require.NoError(t, err)
	require.Equal(t, 5, b.Rate().Burst, "no settings loaded: the strict default, never unlimited")
}
