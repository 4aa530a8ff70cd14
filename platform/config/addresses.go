package config

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// validateAddresses checks the form of every address and URL, from the
// configuration alone: nothing is dialled.
func (c Config) validateAddresses() []string {
	var errs []string
	if err := checkListenAddr(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Sprintf("HTTP_ADDR must be host:port or :port, got %q (%v)", c.HTTPAddr, err))
	}
	var names []string
	for name := range c.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := c.Modules[name]
		if m.URL != "" && !isServiceURL(m.URL) {
			errs = append(errs, fmt.Sprintf("%s_URL must be http(s)://host[:port], got %q", envName(name), redacted(m.URL)))
		}
		if m.Database.URL != "" && !isPostgresURL(m.Database.URL) {
			errs = append(errs, envName(name)+"_DATABASE_URL must be a postgres:// URL, like postgres://user:password@host:5432/db")
		}
	}
	if c.OtherModulesURL != "" && !isServiceURL(c.OtherModulesURL) {
		errs = append(errs, fmt.Sprintf("OTHER_MODULES_URL must be http(s)://host[:port], got %q", redacted(c.OtherModulesURL)))
	}
	if c.Database.URL != "" && !isPostgresURL(c.Database.URL) {
		errs = append(errs, "DATABASE_URL must be a postgres:// URL, like postgres://user:password@host:5432/db")
	}
	if u, err := url.Parse(c.Auth.JWKSURL); c.Auth.JWKSURL != "" && (err != nil || !isHTTP(u)) {
		errs = append(errs, fmt.Sprintf("JWKS_URL must be an http(s) URL, got %q", redacted(c.Auth.JWKSURL)))
	}
	if c.Events.Broker == BrokerNATS {
		for _, server := range strings.Split(c.Events.NATSURL, ",") {
			if server = strings.TrimSpace(server); server != "" && !isNATSURL(server) {
				errs = append(errs, fmt.Sprintf("NATS_URL must be nats://host:port (comma-separated for a cluster), got %q", redacted(server)))
			}
		}
	}
	return errs
}

// checkListenAddr accepts what net.Listen("tcp", addr) does: an optional
// host and a numeric port (0 picks a free one).
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// isServiceURL accepts the base URL of a module: http(s), a host, an
// optional port, and no path beyond "/" (routes keep their paths).
func isServiceURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && isHTTP(u) && u.User == nil && (u.Path == "" || u.Path == "/") &&
		u.RawQuery == "" && u.Fragment == "" && validPort(u.Port())
}

func isHTTP(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Opaque == "" && u.Hostname() != ""
}

func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// isPostgresURL accepts the URL form of a PostgreSQL connection string (the
// per-module roles are derived by rewriting it), with a host in the
// authority or in ?host= (a Unix socket directory).
func isPostgresURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" || !validPort(u.Port()) {
		return false
	}
	return u.Hostname() != "" || u.Query().Get("host") != ""
}

// isNATSURL accepts one server of NATS_URL, as the nats client does: a
// nats, tls, ws or wss URL, or a bare host:port.
func isNATSURL(raw string) bool {
	if !strings.Contains(raw, "://") {
		raw = "nats://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || !validPort(u.Port()) {
		return false
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
		return true
	}
	return false
}

// redacted hides the password of a URL quoted in an error.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}
