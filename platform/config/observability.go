package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// AdminOff disables the admin listener (ADMIN_ADDR=off).
const AdminOff = "off"

// Log formats (LOG_FORMAT): one JSON object a line, or slog's key=value text.
const (
	LogJSON = "json"
	LogText = "text"
)

// Admin configures the admin listener: /metrics and the operator routes,
// on an address of their own, never the public port.
type Admin struct {
	// Addr is host:port; "off" or empty disables the listener.
	Addr string `yaml:"addr"`
	// Peers are the admin listeners of the other processes of the
	// deployment (ADMIN_PEERS, base URLs): the console of this one asks
	// each for its own part of the system.
	Peers []string `yaml:"peers"`
	// ConsoleURL is where a browser on the public side reaches the
	// console (CONSOLE_URL, http(s)://host[:port]): the storefront links
	// an order to its trace there. See Config.PublicConsoleURL.
	ConsoleURL string `yaml:"console_url"`
}

// PublicConsoleURL is the console's address the public pages may show:
// CONSOLE_URL when set; in development, the admin listener itself when it
// listens on a loopback address with a fixed port (the operator's own
// machine); otherwise none, so a public page never shows an internal
// address nobody chose to publish.
func (c Config) PublicConsoleURL() string {
	if c.Admin.ConsoleURL != "" {
		return c.Admin.ConsoleURL
	}
	if c.Env != Development || !c.Admin.Enabled() {
		return ""
	}
	host, port, err := net.SplitHostPort(c.Admin.Addr)
	if err != nil || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ""
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Enabled reports whether the admin listener runs.
func (a Admin) Enabled() bool { return a.Addr != "" && a.Addr != AdminOff }

// Log configures the process's log lines.
type Log struct {
	// Format is json or text; empty means json in production, text in
	// development (see Config.LogFormat).
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// Health configures the health monitor: how often this process checks the
// readiness of every remote module it calls (or, for the gateway, fronts).
type Health struct {
	MonitorInterval time.Duration `yaml:"monitor_interval"`
}

// LogFormat is the effective log format.
func (c Config) LogFormat() string {
	switch {
	case c.Log.Format != "":
		return c.Log.Format
	case c.IsProduction():
		return LogJSON
	}
	return LogText
}

// applyObservabilityEnv reads ADMIN_ADDR, LOG_FORMAT, LOG_LEVEL and
// HEALTH_MONITOR_INTERVAL; it returns the errors of values that do not parse.
func applyObservabilityEnv(cfg *Config, getenv Getenv) []string {
	if v, ok := lookup(getenv, "ADMIN_ADDR"); ok {
		if strings.EqualFold(v, AdminOff) {
			v = AdminOff
		}
		cfg.Admin.Addr = v
	}
	if v, ok := lookup(getenv, "ADMIN_PEERS"); ok {
		cfg.Admin.Peers = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimRight(strings.TrimSpace(p), "/"); p != "" {
				cfg.Admin.Peers = append(cfg.Admin.Peers, p)
			}
		}
	}
	if v, ok := lookup(getenv, "CONSOLE_URL"); ok {
		cfg.Admin.ConsoleURL = strings.TrimRight(strings.TrimSpace(v), "/")
	}
	if v, ok := lookup(getenv, "LOG_FORMAT"); ok {
		cfg.Log.Format = strings.ToLower(v)
	}
	if v, ok := lookup(getenv, "LOG_LEVEL"); ok {
		cfg.Log.Level = strings.ToLower(v)
	}
	if v, ok := lookup(getenv, "HEALTH_MONITOR_INTERVAL"); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return []string{fmt.Sprintf("HEALTH_MONITOR_INTERVAL must be a duration like 5s, got %q", v)}
		}
		cfg.Health.MonitorInterval = d
	}
	return nil
}

// validateObservability lists the problems of these settings.
func (c Config) validateObservability() []string {
	var errs []string
	if c.Admin.Enabled() {
		_, port, err := net.SplitHostPort(c.Admin.Addr)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("ADMIN_ADDR must be host:port (127.0.0.1:9090) or off, got %q", c.Admin.Addr))
		case port != "0" && port == portOf(c.HTTPAddr):
			errs = append(errs, fmt.Sprintf("ADMIN_ADDR %q must not share the public port of HTTP_ADDR %q", c.Admin.Addr, c.HTTPAddr))
		}
	}
	for _, p := range c.Admin.Peers {
		if u, err := url.Parse(p); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			errs = append(errs, fmt.Sprintf("ADMIN_PEERS must be admin base URLs like http://10.0.0.2:9090, got %q", p))
		}
	}
	if c.Admin.ConsoleURL != "" && !originURL(c.Admin.ConsoleURL) {
		errs = append(errs, fmt.Sprintf("CONSOLE_URL must be http(s)://host[:port] with no path, got %q", c.Admin.ConsoleURL))
	}
	switch c.Log.Format {
	case "", LogJSON, LogText:
	default:
		errs = append(errs, fmt.Sprintf("LOG_FORMAT must be json or text, got %q", c.Log.Format))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("LOG_LEVEL must be debug, info, warn or error, got %q", c.Log.Level))
	}
	if c.Health.MonitorInterval <= 0 {
		errs = append(errs, "HEALTH_MONITOR_INTERVAL must be positive")
	}
	return errs
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return port
}

// originURL reports whether s is exactly an origin: http(s)://host[:port].
func originURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != "" &&
		u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}
