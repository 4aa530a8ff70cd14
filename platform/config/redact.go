package config

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redacted is the effective configuration as the console shows it: every
// setting by its YAML name (each module's under modules.<name>, as a file
// has them: its url and database beside its own section), with secrets
// replaced by "[redacted]" (or left empty when unset, so an operator sees
// whether one is set) and the password of every URL removed.
func (c Config) Redacted() (map[string]any, error) {
	out, err := asYAMLMap(c)
	if err != nil {
		return nil, err
	}
	modules := map[string]any{}
	for name, m := range c.Modules {
		entry, err := asYAMLMap(m)
		if err != nil {
			return nil, err
		}
		modules[name] = entry
	}
	for name, section := range c.sections {
		own, err := asYAMLMap(section)
		if err != nil {
			return nil, err
		}
		entry, _ := modules[name].(map[string]any)
		if entry == nil {
			entry = map[string]any{}
			modules[name] = entry
		}
		for k, v := range own {
			entry[k] = v
		}
	}
	out["modules"] = modules
	redact(out)
	return out, nil
}

// asYAMLMap is v as its YAML keys and values.
func asYAMLMap(v any) (map[string]any, error) {
	raw, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
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
