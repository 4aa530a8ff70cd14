package httpapi

import (
	"fmt"

	"mitosis/platform/config"
	"mitosis/platform/throttle"
)

// Settings are the users module's own settings: modules.users in YAML,
// USERS_* in the environment.
type Settings struct {
	// ConsoleLoginLimit limits the console's admin logins per client IP,
	// as the gateway's auth group limits the public ones: "5/m burst 5",
	// or off.
	ConsoleLoginLimit string `yaml:"console_login_limit" env:"CONSOLE_LOGIN_LIMIT"`
}

// defaultLoginLimit is the console login's limit outside development, and
// where no settings were loaded (a Config built by hand): closed, not open.
const defaultLoginLimit = "5/m burst 5"

// Section declares the settings for module (users), with their defaults:
// those of the gateway's auth group, looser in development for a first
// walk through the README.
func Section(module string) config.Section {
	return config.NewSection(module, "USERS", func(env string) Settings {
		if env == config.Development {
			return Settings{ConsoleLoginLimit: "60/m burst 20"}
		}
		return Settings{ConsoleLoginLimit: defaultLoginLimit}
	})
}

// Validate lists every problem of the settings, one line each.
func (s *Settings) Validate() []string {
	if _, err := throttle.ParseRate(s.ConsoleLoginLimit); err != nil {
		return []string{fmt.Sprintf("USERS_CONSOLE_LOGIN_LIMIT: %v", err)}
	}
	return nil
}

// LoginBuckets are the buckets of the console's logins, nil when off.
func (s Settings) LoginBuckets() (*throttle.Buckets, error) {
	limit := s.ConsoleLoginLimit
	if limit == "" {
		limit = defaultLoginLimit
	}
	r, err := throttle.ParseRate(limit)
	if err != nil {
		return nil, fmt.Errorf("USERS_CONSOLE_LOGIN_LIMIT: %w", err)
	}
	if r.Off {
		return nil, nil
	}
	return throttle.NewBuckets(r), nil
}
