package preflight_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/preflight"
	"mitosis/platform/topology"
)

const secret = "0123456789abcdef0123456789abcdef"

// specs are modules shaped like the real ones: an issuer of tokens with a
// secret of its own, a module calling it, a stateless edge.
var specs = []topology.Spec{
	{Name: "users", IssuesTokens: true, Check: func(cfg config.Config) []string {
		if cfg.IsProduction() && cfg.Auth.SigningKeySecret == "" {
			return []string{"SIGNING_KEY_SECRET is required"}
		}
		return nil
	}},
	{Name: "orders", DependsOn: []string{"users"}},
	{Name: "edge", DependsOn: []string{"users", "orders"}, Stateless: true},
}

func load(t *testing.T, vars map[string]string) (config.Config, error) {
	t.Helper()
	t.Chdir(t.TempDir()) // no .env files around
	return preflight.Load(func(k string) string { return vars[k] }, specs, preflight.Serve)
}

func TestEveryProblemIsNamedAtOnce(t *testing.T) {
	_, err := load(t, map[string]string{"APP_ENV": "production", "SERVICES": "orders,edge", "CALL_RETRIES": "many"})
	require.Error(t, err)
	assert.Equal(t, config.Problems{
		"CALL_RETRIES must be an integer, got \"many\"",
		"module neither local nor configured: users (needed by orders, edge; set USERS_URL)",
		"DATABASE_URL is required in production (the embedded PostgreSQL is for development)",
		"SERVICE_SECRET is required in production (SERVICE_AUTH=jwt signs service tokens with it)",
		"JWKS_URL or USERS_URL is required to verify access tokens where users does not run",
	}, err)
}

func TestModuleChecksRunWhereTheModuleRuns(t *testing.T) {
	base := map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://db/app", "SERVICE_SECRET": secret}
	_, err := load(t, base)
	require.Equal(t, config.Problems{"SIGNING_KEY_SECRET is required"}, err)

	base["SERVICES"], base["USERS_URL"] = "orders", "http://users:8080"
	_, err = load(t, base)
	require.NoError(t, err, "users' own check does not run where users does not")
}

func TestServiceCredentials(t *testing.T) {
	_, err := load(t, map[string]string{"SERVICE_AUTH": "api-key", "SERVICE_API_KEY": "short"})
	require.Equal(t, config.Problems{"SERVICE_API_KEY (at least 32 characters) is required when SERVICE_AUTH=api-key"}, err)

	_, err = load(t, map[string]string{"SERVICE_SECRET": "short"})
	require.ErrorContains(t, err, "SERVICE_SECRET must be at least 32 characters", "too short in development too")

	_, err = load(t, map[string]string{})
	require.NoError(t, err, "development generates what is missing")
}

func TestGatewayAloneNeedsNoDatabase(t *testing.T) {
	cfg, err := load(t, map[string]string{"APP_ENV": "production", "SERVICES": "edge", "USERS_URL": "http://users:8080",
		"ORDERS_URL": "http://orders:8080", "SERVICE_SECRET": secret})
	require.NoError(t, err)
	assert.Equal(t, []string{"edge"}, cfg.Services)
}

func TestMaintenanceNeedsNoServingSecrets(t *testing.T) {
	t.Chdir(t.TempDir())
	vars := map[string]string{"APP_ENV": "production", "DATABASE_URL": "postgres://db/app"}
	_, err := preflight.Load(func(k string) string { return vars[k] }, specs, preflight.Maintain)
	require.NoError(t, err, "migrate needs the database, not the secrets")

	delete(vars, "DATABASE_URL")
	vars["SERVICES"] = "orders"
	_, err = preflight.Load(func(k string) string { return vars[k] }, specs, preflight.Maintain)
	require.Equal(t, config.Problems{
		"module neither local nor configured: users (needed by orders; set USERS_URL)",
		"DATABASE_URL is required in production (the embedded PostgreSQL is for development)",
	}, err)
}

// app check refuses a console address that is not an origin.
func TestConsoleURLIsChecked(t *testing.T) {
	_, err := load(t, map[string]string{"CONSOLE_URL": "https://ops.example.com/console?x=1"})
	require.ErrorContains(t, err, "CONSOLE_URL must be http(s)://host[:port]")
	cfg, err := load(t, map[string]string{"CONSOLE_URL": "https://ops.example.com:8443"})
	require.NoError(t, err)
	require.Equal(t, "https://ops.example.com:8443", cfg.PublicConsoleURL())
}

// LOCAL_CALLS is checked with everything else; strict needs nothing more
// than a process already has (its service credentials sign its own calls).
func TestLocalCallsIsChecked(t *testing.T) {
	_, err := load(t, map[string]string{"LOCAL_CALLS": "loose", "CALL_RETRIES": "many"})
	require.Equal(t, config.Problems{
		"CALL_RETRIES must be an integer, got \"many\"",
		"LOCAL_CALLS must be direct or strict, got \"loose\"",
	}, err)

	cfg, err := load(t, map[string]string{"LOCAL_CALLS": "strict"})
	require.NoError(t, err)
	assert.Equal(t, config.LocalCallsStrict, cfg.Calls.Local)
}

// A deployment computed from the binary's own module graph starts; one
// computed from another (a chart packaged from other sources than its
// image) is refused, naming both digests.
func TestModuleGraphMustBeTheBinarys(t *testing.T) {
	digest, err := topology.Graph(specs).Digest()
	require.NoError(t, err)
	_, err = load(t, map[string]string{"MODULE_GRAPH": digest})
	require.NoError(t, err)

	grown, err := topology.Graph(append(specs[:len(specs):len(specs)], topology.Spec{Name: "shelf"})).Digest()
	require.NoError(t, err)
	require.NotEqual(t, digest, grown)
	_, err = load(t, map[string]string{"MODULE_GRAPH": grown})
	require.Equal(t, config.Problems{"MODULE_GRAPH is " + grown + ", but this binary's module graph is " + digest +
		": the deployment was computed from another binary's modules (package the chart from this image's source: make chart)"}, err)
}
