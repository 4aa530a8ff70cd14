package db

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"mitosis/platform/config"
)

// rolePrefix namespaces the per-module roles inside a shared cluster.
const rolePrefix = "mitosis_"

// Target says where one module's data lives and how to reach it.
type Target struct {
	Module    string
	Schema    string
	Isolation string
	// Role is the module's own role in per-module mode, "" otherwise.
	Role string
	// URL is what the module connects with at run time.
	URL string
	// AdminURL provisions the schema (and role) before migrating.
	AdminURL string
}

// TargetFor resolves the data placement of a module.
func TargetFor(cfg config.Config, cluster *Cluster, module string) (Target, error) {
	t := Target{Module: module, Schema: module, Isolation: cfg.Isolation(module)}
	if t.Isolation == config.Isolated {
		u := cfg.Module(module).Database.URL
		if u == "" {
			return Target{}, fmt.Errorf("module %s is isolated but %s_DATABASE_URL is not set", module, strings.ToUpper(module))
		}
		t.URL, t.AdminURL = u, u
		return t, nil
	}
	if own := cfg.Module(module).Database.URL; own != "" {
		// An operator-provided per-module role for a shared database: it must
		// already own its schema, so there is nothing to provision.
		t.URL = own
		return t, nil
	}
	if cluster.AdminURL == "" {
		return Target{}, fmt.Errorf("module %s uses the shared database but DATABASE_URL is not set", module)
	}
	t.AdminURL, t.URL = cluster.AdminURL, cluster.AdminURL
	if cfg.Database.Roles == config.RolesPerModule {
		t.Role = rolePrefix + module
		u, err := withRole(cluster.AdminURL, t.Role)
		if err != nil {
			return Target{}, err
		}
		t.URL = u
	}
	return t, nil
}

// Validate checks, from configuration alone, that every local module that
// keeps data can find it, so startup fails before anything (like the embedded
// server) has started.
func Validate(cfg config.Config, local []string) error {
	placeholder := &Cluster{AdminURL: cfg.Database.URL}
	if placeholder.AdminURL == "" {
		placeholder.AdminURL = "postgres://embedded/" + embeddedDatabase
	}
	var errs []error
	// Only where a module would use it: a gateway-only process has no data.
	if cfg.IsProduction() && cfg.Database.URL == "" && needsShared(cfg, local) {
		errs = append(errs, errors.New("DATABASE_URL is required in production (the embedded PostgreSQL is for development)"))
	}
	for _, name := range local {
		if _, err := TargetFor(cfg, placeholder, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withRole returns adminURL with its credentials replaced by the module
// role's. The role's password is derived from the admin's, so whoever can
// provision the role can connect as it, and nothing new must be stored.
func withRole(adminURL, role string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL")
	}
	u.User = url.UserPassword(role, rolePassword(adminURL, role))
	return u.String(), nil
}

func rolePassword(adminURL, role string) string {
	key := adminURL
	if u, err := url.Parse(adminURL); err == nil {
		if pw, ok := u.User.Password(); ok {
			key = pw
		}
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("mitosis role password:" + role))
	return hex.EncodeToString(mac.Sum(nil))
}

// Redacted hides the password of a connection URL for display.
func Redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}
