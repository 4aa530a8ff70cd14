// Package config loads the typed configuration once: the embedded defaults,
// then an optional CONFIG_FILE, then the environment.
package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Database isolation modes and role strategies.
const (
	Shared         = "shared"
	Isolated       = "isolated"
	RolesPerModule = "per-module"
	RolesSingle    = "single"
)

// Event brokers: PostgreSQL itself (the relay delivers each outbox row to
// each subscriber) or NATS JetStream (the relay publishes to a stream that
// every subscriber consumes).
const (
	BrokerPostgres = "postgres"
	BrokerNATS     = "nats"
)

// How calls between the modules of one process go (LOCAL_CALLS): a
// method call, or the whole path of an HTTP call without the socket.
const (
	LocalCallsDirect = "direct"
	LocalCallsStrict = "strict"
)

// Config is the whole configuration of one process.
type Config struct {
	Env      string `yaml:"env"`
	HTTPAddr string `yaml:"http_addr"`
	// Services are the modules this process runs (SERVICES): every one
	// when empty; "a,b" those; "-a,-b" every one but those (see LeavesOut).
	Services []string `yaml:"services"`
	// OtherModulesURL is where every module without a <MODULE>_URL of its
	// own is found (OTHER_MODULES_URL): the process that runs the rest, so
	// a module added since needs no URL of its own (see ModuleURL).
	OtherModulesURL string `yaml:"other_modules_url"`
	// ModuleGraph is the digest of the module graph the deployment placed
	// the modules with (MODULE_GRAPH, sha256:<hex>; the chart sets it):
	// the process refuses to start with another graph than that (see
	// topology.ModuleGraph.Digest). Empty: not checked.
	ModuleGraph string    `yaml:"module_graph"`
	DataDir     string    `yaml:"data_dir"`
	HTTP        HTTP      `yaml:"http"`
	Database    Database  `yaml:"database"`
	Auth        Auth      `yaml:"auth"`
	Calls       Calls     `yaml:"calls"`
	Events      Events    `yaml:"events"`
	Shutdown    Shutdown  `yaml:"shutdown"`
	Admin       Admin     `yaml:"admin"`
	Log         Log       `yaml:"log"`
	Health      Health    `yaml:"health"`
	Tracing     Tracing   `yaml:"tracing"`
	Record      Recording `yaml:"record"`
	// Modules holds each module's url and database (modules.<name>, read
	// by applyModules); sections its own settings (see Section).
	Modules  map[string]Module `yaml:"-"`
	sections map[string]any
}

// HTTP configures the server: which browser origins may call it (CORS) and
// how long a client may take, so slow or stuck requests end.
type HTTP struct {
	// CORSAllowedOrigins are exact origins (https://shop.example.com); empty
	// means none, or any loopback origin in development.
	CORSAllowedOrigins []string      `yaml:"cors_allowed_origins"`
	ReadHeaderTimeout  time.Duration `yaml:"read_header_timeout"`
	ReadTimeout        time.Duration `yaml:"read_timeout"`
	WriteTimeout       time.Duration `yaml:"write_timeout"`
	IdleTimeout        time.Duration `yaml:"idle_timeout"`
}

// Database configures the shared database and its defaults.
type Database struct {
	URL            string `yaml:"url"`
	Isolation      string `yaml:"isolation"`
	Roles          string `yaml:"roles"`
	MaxConns       int    `yaml:"max_conns"`
	MigrateOnStart bool   `yaml:"migrate_on_start"`
}

// Auth configures token signing and verification.
type Auth struct {
	// ServiceAuth is how internal calls authenticate: jwt, api-key or none.
	ServiceAuth string `yaml:"service_auth"`
	// ServiceSecret signs the tokens modules attach to internal calls (jwt).
	ServiceSecret string `yaml:"service_secret"`
	// ServiceAPIKey is the shared key of internal calls (api-key).
	ServiceAPIKey string `yaml:"service_api_key"`
	// SigningKeySecret encrypts users' private signing keys at rest.
	SigningKeySecret string `yaml:"signing_key_secret"`
	// SigningKeyMaxAge rotates the signing key once it is this old (0: only
	// by command).
	SigningKeyMaxAge time.Duration `yaml:"signing_key_max_age"`
	TokenTTL         time.Duration `yaml:"token_ttl"`
	RefreshTokenTTL  time.Duration `yaml:"refresh_token_ttl"`
	Issuer           string        `yaml:"issuer"`
	Audience         string        `yaml:"audience"`
	// JWKSURL is where processes without users fetch its public keys;
	// empty: USERS_URL + /.well-known/jwks.json.
	JWKSURL string `yaml:"jwks_url"`
	// PasswordHashCost is bcrypt's work factor; tests lower it for speed.
	PasswordHashCost int `yaml:"password_hash_cost"`
}

// Calls configures calls to remote modules: the deadline cap, retries of
// calls that are safe to repeat, and per remote module a circuit breaker and
// a cap on concurrent calls.
type Calls struct {
	// Local is how calls between modules of one process go: direct (a
	// method call) or strict (the path of an HTTP call without the socket:
	// encoded, credentialed, decoded; see contract.Strict).
	Local   string        `yaml:"local"`
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a failed call that is safe to repeat is
	// tried again; 0 disables retries.
	Retries int `yaml:"retries"`
	// Backoff is the base of the exponential backoff between attempts.
	Backoff time.Duration `yaml:"backoff"`
	// MaxConcurrency caps the calls in flight to one remote module.
	MaxConcurrency int `yaml:"max_concurrency"`
	// BreakerFailures is how many consecutive failures open the breaker.
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerCooldown is how long an open breaker refuses calls before it
	// lets a probe through.
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
}

// Events configures the relays that deliver each module's outbox.
type Events struct {
	// Broker is postgres or nats; NATSURL is the server the nats broker
	// connects to (comma-separated URLs of a cluster).
	Broker       string        `yaml:"broker"`
	NATSURL      string        `yaml:"nats_url"`
	PollInterval time.Duration `yaml:"poll_interval"`
	BatchSize    int           `yaml:"batch_size"`
	MaxAttempts  int           `yaml:"max_attempts"`
	BackoffBase  time.Duration `yaml:"backoff_base"`
	BackoffMax   time.Duration `yaml:"backoff_max"`
}

// Module configures where one module runs and where its data lives.
type Module struct {
	URL      string         `yaml:"url"`
	Database ModuleDatabase `yaml:"database"`
}

// ModuleDatabase overrides the database of one module.
type ModuleDatabase struct {
	Isolation string `yaml:"isolation"`
	URL       string `yaml:"url"`
}

// IsProduction reports whether secrets must be provided.
func (c Config) IsProduction() bool { return c.Env == Production }

// Module returns the settings of one module (zero value if absent).
func (c Config) Module(name string) Module { return c.Modules[name] }

// LeavesOut reports whether SERVICES names the modules this process does
// not run ("-gateway,-users"): it runs every other module, the rest.
func (c Config) LeavesOut() bool {
	return len(c.Services) > 0 && strings.HasPrefix(c.Services[0], "-")
}

// ModuleURL is where a module is found when it does not run here: its
// <MODULE>_URL, else OTHER_MODULES_URL, "" if neither is set. A process
// that leaves modules out runs the rest itself, so OTHER_MODULES_URL (its
// own address) never stands for a module it leaves out there.
func (c Config) ModuleURL(name string) string {
	if u := c.Modules[name].URL; u != "" || c.LeavesOut() {
		return u
	}
	return c.OtherModulesURL
}

// Isolation returns the effective isolation of a module.
func (c Config) Isolation(name string) string {
	if iso := c.Modules[name].Database.Isolation; iso != "" {
		return iso
	}
	return c.Database.Isolation
}

// validate lists every problem of the configuration, one line each.
func (c Config) validate() []string {
	var errs []string
	if c.Env != Development && c.Env != Production {
		errs = append(errs, fmt.Sprintf("APP_ENV must be %s or %s, got %q", Development, Production, c.Env))
	}
	if !slices.Contains([]string{Shared, Isolated}, c.Database.Isolation) {
		errs = append(errs, fmt.Sprintf("DATABASE_ISOLATION must be shared or isolated, got %q", c.Database.Isolation))
	}
	if !slices.Contains([]string{RolesPerModule, RolesSingle}, c.Database.Roles) {
		errs = append(errs, fmt.Sprintf("DATABASE_ROLES must be per-module or single, got %q", c.Database.Roles))
	}
	for name, m := range c.Modules {
		iso := m.Database.Isolation
		if iso != "" && iso != Shared && iso != Isolated {
			errs = append(errs, fmt.Sprintf("%s_DATABASE_ISOLATION must be shared or isolated, got %q", envName(name), iso))
		}
	}
	if c.Auth.TokenTTL <= 0 {
		errs = append(errs, "TOKEN_TTL must be positive")
	}
	switch c.Auth.ServiceAuth {
	case "jwt", "api-key":
	case "none":
		if c.Env != Development {
			errs = append(errs, "SERVICE_AUTH=none is refused unless APP_ENV=development")
		}
	default:
		errs = append(errs, fmt.Sprintf("SERVICE_AUTH must be jwt, api-key or none, got %q", c.Auth.ServiceAuth))
	}
	if c.Auth.RefreshTokenTTL <= 0 {
		errs = append(errs, "REFRESH_TOKEN_TTL must be positive")
	}
	if c.Auth.SigningKeyMaxAge < 0 {
		errs = append(errs, "SIGNING_KEY_MAX_AGE must not be negative")
	}
	if c.Auth.Issuer == "" || c.Auth.Audience == "" {
		errs = append(errs, "JWT_ISSUER and JWT_AUDIENCE must not be empty")
	}
	if c.Auth.PasswordHashCost < 4 || c.Auth.PasswordHashCost > 31 {
		errs = append(errs, "PASSWORD_HASH_COST must be between 4 and 31")
	}
	errs = append(errs, c.Calls.validate()...)
	errs = append(errs, c.validateObservability()...)
	errs = append(errs, c.Tracing.validate()...)
	if c.Events.PollInterval <= 0 || c.Events.BackoffBase <= 0 || c.Events.BackoffMax < c.Events.BackoffBase {
		errs = append(errs, "EVENTS_POLL_INTERVAL and EVENTS_BACKOFF_BASE must be positive, EVENTS_BACKOFF_MAX at least the base")
	}
	for name, d := range map[string]time.Duration{
		"HTTP_READ_HEADER_TIMEOUT": c.HTTP.ReadHeaderTimeout, "HTTP_READ_TIMEOUT": c.HTTP.ReadTimeout,
		"HTTP_WRITE_TIMEOUT": c.HTTP.WriteTimeout, "HTTP_IDLE_TIMEOUT": c.HTTP.IdleTimeout,
	} {
		if d <= 0 {
			errs = append(errs, name+" must be positive")
		}
	}
	for _, o := range c.HTTP.CORSAllowedOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Sprintf("CORS_ALLOWED_ORIGINS holds %q; origins look like https://shop.example.com", o))
		}
	}
	switch c.Events.Broker {
	case BrokerPostgres:
	case BrokerNATS:
		if c.Events.NATSURL == "" {
			errs = append(errs, "NATS_URL is required with EVENTS_BROKER=nats")
		}
	default:
		errs = append(errs, fmt.Sprintf("EVENTS_BROKER must be postgres or nats, got %q", c.Events.Broker))
	}
	if c.Events.BatchSize < 1 || c.Events.MaxAttempts < 1 {
		errs = append(errs, "EVENTS_BATCH_SIZE and EVENTS_MAX_ATTEMPTS must be positive")
	}
	errs = append(errs, c.validateAddresses()...)
	errs = append(errs, c.Shutdown.validate()...)
	return errs
}

func (c Calls) validate() []string {
	var errs []string
	if c.Local != LocalCallsDirect && c.Local != LocalCallsStrict {
		errs = append(errs, fmt.Sprintf("LOCAL_CALLS must be direct or strict, got %q", c.Local))
	}
	if c.Timeout <= 0 {
		errs = append(errs, "CALL_TIMEOUT must be positive")
	}
	if c.Retries < 0 || c.Retries > 10 {
		errs = append(errs, fmt.Sprintf("CALL_RETRIES must be between 0 and 10, got %d", c.Retries))
	}
	if c.Backoff <= 0 {
		errs = append(errs, "CALL_BACKOFF must be positive")
	}
	if c.MaxConcurrency < 1 {
		errs = append(errs, fmt.Sprintf("CALL_MAX_CONCURRENCY must be at least 1, got %d", c.MaxConcurrency))
	}
	if c.BreakerFailures < 1 {
		errs = append(errs, fmt.Sprintf("BREAKER_FAILURES must be at least 1, got %d", c.BreakerFailures))
	}
	if c.BreakerCooldown <= 0 {
		errs = append(errs, "BREAKER_COOLDOWN must be positive")
	}
	return errs
}

// envName is the environment prefix of a module: orders → ORDERS.
func envName(module string) string { return strings.ToUpper(module) }
