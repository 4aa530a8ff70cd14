package config

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redacted is the effective configuration as the console shows it: every
// setting by its YAML name, with secrets replaced by "[redacted]" (or
// left empty when unset, so an operator sees whether one is set) and the
// password of every URL removed.
func (c Config) Redacted() (map[string]any, error) {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	redact(out)
	return out, nil
}

// secretKey: a setting whose value is a credential, by its name.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "secret") || strings.Contains(k, "password") || strings.Contains(k, "api_key") ||
		strings.HasSuffix(k, "_key") || k == "key"
}

func redact(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			redact(x)
		case []any:
			for i, e := range x {
				if s, ok := e.(string); ok {
					x[i] = withoutPassword(s)
				}
			}
		case string:
			switch {
			case secretKey(k) && x != "":
				m[k] = "[redacted]"
			default:
				m[k] = withoutPassword(x)
			}
		}
	}
}

// withoutPassword drops the password of a URL with one (postgres://u:p@h),
// and its query's password-like parameters; anything else is unchanged.
func withoutPassword(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[redacted]" // unparsable but URL-like: show nothing
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretKey(k) || strings.EqualFold(k, "token") {
			q.Set(k, "redacted")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
