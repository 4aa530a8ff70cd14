// Package settings is the gateway's own configuration: its section of the
// configuration (modules.gateway in YAML, GATEWAY_* and RATE_LIMIT_<GROUP>
// in the environment), and the rate and proxy syntax it reads.
package settings

import (
	"fmt"
	"net"
	"strings"
	"time"

	"mitosis/platform/config"
	"mitosis/platform/throttle"
)

// Settings configures the public entry point.
type Settings struct {
	// ProxyTimeout bounds the wait for a remote module's response headers.
	ProxyTimeout time.Duration `yaml:"proxy_timeout" env:"PROXY_TIMEOUT"`
	// PartTimeout bounds each part of a composed answer on its own.
	PartTimeout time.Duration `yaml:"part_timeout" env:"PART_TIMEOUT"`
	// TrustedProxies are the CIDRs (or IPs) whose X-Forwarded-For names the
	// client; with none, the client is the connection's peer.
	TrustedProxies []string `yaml:"trusted_proxies" env:"TRUSTED_PROXIES"`
	// RateLimits are the limits per route group, by group name.
	RateLimits map[string]RateLimit `yaml:"rate_limits"`
}

// Defaults are the settings before the files and the environment: in
// development the credential routes are loose enough for a first walk
// through the README (5 a minute in production).
func Defaults(env string) Settings {
	s := Settings{
		ProxyTimeout: 30 * time.Second,
		PartTimeout:  2 * time.Second,
		RateLimits: map[string]RateLimit{
			"default": {Prefix: "/api/", Limit: "20/s burst 40"},
			"auth":    {Prefix: "/api/v1/auth", Limit: "5/m burst 5"},
			// Registration: each costs a password hash. Like auth, per
			// client IP only.
			"register": {Prefix: "/api/v1/users", Method: "POST", Limit: "5/m burst 5"},
		},
	}
	if env == config.Development {
		s.RateLimits["auth"] = RateLimit{Prefix: "/api/v1/auth", Limit: "60/m burst 20"}
		s.RateLimits["register"] = RateLimit{Prefix: "/api/v1/users", Method: "POST", Limit: "60/m burst 20"}
	}
	return s
}

// Section declares the settings: modules.gateway in YAML, GATEWAY_* in
// the environment.
func Section(module string) config.Section { return config.NewSection(module, "GATEWAY", Defaults) }

// ApplyEnv reads RATE_LIMIT_<GROUP>, the limit of each group: one
// variable per entry of the map, which a tag cannot name.
func (s *Settings) ApplyEnv(lookup config.Lookup) []string {
	for name, rl := range s.RateLimits {
		if v, ok := lookup("RATE_LIMIT_" + strings.ToUpper(name)); ok {
			rl.Limit = v
			s.RateLimits[name] = rl
		}
	}
	return nil
}

// Validate lists every problem of the settings, one line each.
func (s *Settings) Validate() []string {
	var errs []string
	if s.ProxyTimeout <= 0 {
		errs = append(errs, "GATEWAY_PROXY_TIMEOUT must be positive")
	}
	if s.PartTimeout <= 0 {
		errs = append(errs, "GATEWAY_PART_TIMEOUT must be positive")
	}
	for name, rl := range s.RateLimits {
		if !strings.HasPrefix(rl.Prefix, "/") {
			errs = append(errs, fmt.Sprintf("rate limit group %s: prefix must start with /, got %q", name, rl.Prefix))
		}
		if rl.Method != "" && rl.Method != strings.ToUpper(rl.Method) {
			errs = append(errs, fmt.Sprintf("rate limit group %s: method must be upper case, like POST, got %q", name, rl.Method))
		}
		if _, err := throttle.ParseRate(rl.Limit); err != nil {
			errs = append(errs, fmt.Sprintf("RATE_LIMIT_%s: %v", strings.ToUpper(name), err))
		}
	}
	for _, p := range s.TrustedProxies {
		if _, _, err := net.ParseCIDR(AsCIDR(p)); err != nil {
			errs = append(errs, fmt.Sprintf("GATEWAY_TRUSTED_PROXIES: %q is not an IP or CIDR", p))
		}
	}
	return errs
}
