package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"mitosis/configs"
)

// Getenv reads one environment variable; os.Getenv in main, a map in tests.
type Getenv func(string) string

// Load reads the defaults, CONFIG_FILE if set, then the environment.
// modules lists every module the binary knows, for their <MODULE>_* variables
// and their keys under modules.<name>; sections are the modules' own
// settings (see Section). A configuration that loads but is invalid comes
// back with Problems listing everything wrong with it; any other error (an
// unreadable CONFIG_FILE, a key no setting has) stops the load.
func Load(getenv Getenv, modules []string, sections ...Section) (Config, error) {
	l := loader{modules: modules, known: map[string]bool{}}
	for _, m := range modules {
		l.known[m] = true
	}
	cfg := Config{Modules: map[string]Module{}, sections: map[string]any{}}
	if err := l.decodeYAML(configs.Default, &cfg); err != nil {
		return Config{}, fmt.Errorf("embedded defaults: %w", err)
	}
	cfg.Shutdown.Delay = unsetDelay
	path := getenv("CONFIG_FILE")
	var file []byte
	if path != "" {
		var err error
		if file, err = os.ReadFile(path); err != nil {
			return Config{}, fmt.Errorf("CONFIG_FILE: %w", err)
		}
	}
	env := environment(getenv, file, cfg.Env)
	for _, s := range sections {
		if !l.known[s.Module] {
			return Config{}, fmt.Errorf("settings declared for %s, which is not a module", s.Module)
		}
		if s.Isolation != "" {
			m := cfg.Modules[s.Module]
			m.Database.Isolation = s.Isolation
			cfg.Modules[s.Module] = m
		}
		if s.fresh != nil {
			cfg.sections[s.Module] = s.fresh(env)
		}
	}
	if env == Development {
		if err := l.decodeYAML(configs.Development, &cfg); err != nil {
			return Config{}, fmt.Errorf("embedded development defaults: %w", err)
		}
	}
	if path != "" {
		if err := l.decodeYAML(file, &cfg); err != nil {
			return Config{}, fmt.Errorf("CONFIG_FILE %s: %w", path, err)
		}
	}
	problems := Problems(applyEnv(&cfg, getenv, modules))
	for _, s := range sections {
		if v, ok := cfg.sections[s.Module]; ok {
			problems = append(problems, applySectionEnv(s.Prefix, v, func(key string) (string, bool) { return lookup(getenv, key) })...)
		}
	}
	cfg.defaultDelay()
	problems = append(problems, cfg.validate()...)
	for _, s := range sections {
		if v, ok := cfg.sections[s.Module]; ok {
			problems = append(problems, validateSection(v)...)
		}
	}
	sort.Strings(problems) // several come from maps, whose order changes between runs
	if len(problems) > 0 {
		return cfg, problems
	}
	return cfg, nil
}

// loader knows the modules whose keys a file may hold.
type loader struct {
	modules []string
	known   map[string]bool
}

// environment is the APP_ENV the process will have: the variable, else the
// CONFIG_FILE's env, else the default's. The development defaults go
// beneath CONFIG_FILE, so they are chosen before it is applied.
func environment(getenv Getenv, file []byte, fallback string) string {
	if v, ok := lookup(getenv, "APP_ENV"); ok {
		return v
	}
	var peek struct {
		Env string `yaml:"env"`
	}
	if yaml.Unmarshal(file, &peek) == nil && peek.Env != "" {
		return peek.Env
	}
	return fallback
}

// decodeYAML applies one file: the platform's keys strictly (a key no
// setting has is an error), then each module's.
func (l *loader) decodeYAML(raw []byte, cfg *Config) error {
	doc := document{Config: *cfg}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	*cfg = doc.Config
	return l.applyModules(cfg, doc.Modules)
}

// applyEnv sets what the environment names, and lists the values it could
// not parse (leaving those settings as they were).
func applyEnv(cfg *Config, getenv Getenv, modules []string) []string {
	str := func(key string, dst *string) {
		if v, ok := lookup(getenv, key); ok {
			*dst = v
		}
	}
	str("APP_ENV", &cfg.Env)
	str("HTTP_ADDR", &cfg.HTTPAddr)
	str("DATA_DIR", &cfg.DataDir)
	str("DATABASE_URL", &cfg.Database.URL)
	str("DATABASE_ISOLATION", &cfg.Database.Isolation)
	str("DATABASE_ROLES", &cfg.Database.Roles)
	str("SERVICE_AUTH", &cfg.Auth.ServiceAuth)
	str("SERVICE_SECRET", &cfg.Auth.ServiceSecret)
	str("SERVICE_API_KEY", &cfg.Auth.ServiceAPIKey)
	str("SIGNING_KEY_SECRET", &cfg.Auth.SigningKeySecret)
	str("JWT_ISSUER", &cfg.Auth.Issuer)
	str("JWT_AUDIENCE", &cfg.Auth.Audience)
	str("JWKS_URL", &cfg.Auth.JWKSURL)
	str("EVENTS_BROKER", &cfg.Events.Broker)
	str("NATS_URL", &cfg.Events.NATSURL)
	str("LOCAL_CALLS", &cfg.Calls.Local)
	str("OTHER_MODULES_URL", &cfg.OtherModulesURL)
	str("MODULE_GRAPH", &cfg.ModuleGraph)
	if v, ok := lookup(getenv, "SERVICES"); ok {
		cfg.Services = splitList(v)
	}
	if v, ok := lookup(getenv, "CORS_ALLOWED_ORIGINS"); ok {
		cfg.HTTP.CORSAllowedOrigins = splitList(v)
	}
	errs := applyObservabilityEnv(cfg, getenv)
	errs = append(errs, applyTracingEnv(&cfg.Tracing, getenv)...)
	errs = append(errs, applyRecordingEnv(&cfg.Record, getenv)...)
	if v, ok := lookup(getenv, "DATABASE_MAX_CONNS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Sprintf("DATABASE_MAX_CONNS must be a positive integer, got %q", v))
		} else {
			cfg.Database.MaxConns = n
		}
	}
	if v, ok := lookup(getenv, "PASSWORD_HASH_COST"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("PASSWORD_HASH_COST must be an integer, got %q", v))
		} else {
			cfg.Auth.PasswordHashCost = n
		}
	}
	for key, dst := range map[string]*int{"EVENTS_BATCH_SIZE": &cfg.Events.BatchSize, "EVENTS_MAX_ATTEMPTS": &cfg.Events.MaxAttempts} {
		if v, ok := lookup(getenv, key); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s must be an integer, got %q", key, v))
			} else {
				*dst = n
			}
		}
	}
	if v, ok := lookup(getenv, "MIGRATE_ON_START"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("MIGRATE_ON_START must be true or false, got %q", v))
		} else {
			cfg.Database.MigrateOnStart = b
		}
	}
	for key, dst := range map[string]*int{
		"CALL_RETRIES":         &cfg.Calls.Retries,
		"CALL_MAX_CONCURRENCY": &cfg.Calls.MaxConcurrency,
		"BREAKER_FAILURES":     &cfg.Calls.BreakerFailures,
	} {
		if v, ok := lookup(getenv, key); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s must be an integer, got %q", key, v))
			} else {
				*dst = n
			}
		}
	}
	for key, dst := range map[string]*time.Duration{
		"TOKEN_TTL":                &cfg.Auth.TokenTTL,
		"REFRESH_TOKEN_TTL":        &cfg.Auth.RefreshTokenTTL,
		"SIGNING_KEY_MAX_AGE":      &cfg.Auth.SigningKeyMaxAge,
		"CALL_TIMEOUT":             &cfg.Calls.Timeout,
		"CALL_BACKOFF":             &cfg.Calls.Backoff,
		"BREAKER_COOLDOWN":         &cfg.Calls.BreakerCooldown,
		"EVENTS_POLL_INTERVAL":     &cfg.Events.PollInterval,
		"EVENTS_BACKOFF_BASE":      &cfg.Events.BackoffBase,
		"EVENTS_BACKOFF_MAX":       &cfg.Events.BackoffMax,
		"HTTP_READ_HEADER_TIMEOUT": &cfg.HTTP.ReadHeaderTimeout,
		"HTTP_READ_TIMEOUT":        &cfg.HTTP.ReadTimeout,
		"HTTP_WRITE_TIMEOUT":       &cfg.HTTP.WriteTimeout,
		"HTTP_IDLE_TIMEOUT":        &cfg.HTTP.IdleTimeout,
		"SHUTDOWN_DELAY":           &cfg.Shutdown.Delay,
		"SHUTDOWN_TIMEOUT":         &cfg.Shutdown.Timeout,
	} {
		if v, ok := lookup(getenv, key); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s must be a duration like 5s, got %q", key, v))
			} else {
				*dst = d
			}
		}
	}
	for _, name := range modules {
		m := cfg.Modules[name]
		prefix := envName(name)
		str(prefix+"_URL", &m.URL)
		str(prefix+"_DATABASE_URL", &m.Database.URL)
		str(prefix+"_DATABASE_ISOLATION", &m.Database.Isolation)
		cfg.Modules[name] = m
	}
	return errs
}

// lookup treats an empty variable as unset, as shells and compose files do.
func lookup(getenv Getenv, key string) (string, bool) {
	v := strings.TrimSpace(getenv(key))
	return v, v != ""
}

// splitList parses "a, b,,a" into [a b]: trimmed, empty and repeated names dropped.
func splitList(v string) []string {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}
