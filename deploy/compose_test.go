package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	composeDir  = "compose"
	composeFile = composeDir + "/docker-compose.yml"
	envExample  = composeDir + "/.env.example"
)

// loadCompose loads the compose file as `docker compose --profile ...`
// would, with .env.example as its .env and extra variables over it.
func loadCompose(t *testing.T, content string, profiles []string, extra map[string]string) *types.Project {
	t.Helper()
	file := composeFile
	if content != "" { // a variant of the file, beside the real one
		f, err := os.CreateTemp(composeDir, "variant-*.yml")
		require.NoError(t, err)
		t.Cleanup(func() { _ = os.Remove(f.Name()) })
		_, err = f.WriteString(content)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		file = f.Name()
	}
	var env []string
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(composeDir),
		cli.WithEnv(env),
		cli.WithEnvFiles(envExample),
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
	)
	require.NoError(t, err)
	project, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "load %s with profiles %v", file, profiles)
	return project
}

// appServices are the services that run the image, by name.
func appServices(p *types.Project) map[string]types.ServiceConfig {
	out := map[string]types.ServiceConfig{}
	for name, s := range p.Services {
		if s.Build != nil {
			out[name] = s
		}
	}
	return out
}

func environment(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

func isOneShot(s types.ServiceConfig) bool {
	return slices.Equal(s.Command, types.ShellCommand{"migrate", "up"})
}

// splitProcesses are the app processes of the split profile: the gateway,
// three modules in a process each, and the process of the rest (every
// other module, a module added since among them).
var splitProcesses = []string{"gateway", "users", "orders", "payments", "others"}

// TestComposeProfiles loads each profile and checks its shape: the services
// it runs, migrations once before the modules, a healthcheck everywhere,
// every app process's environment passing `app check`, and every module
// run by exactly one process, as the processes' own checks place them.
func TestComposeProfiles(t *testing.T) {
	modules := graphModules(t)
	cases := []struct {
		name     string
		profiles []string
		extra    map[string]string
		services []string
	}{
		{"one", []string{"one"}, nil, []string{"postgres", "migrate", "app"}},
		{"split", []string{"split"}, nil, append([]string{"postgres", "payments-db", "migrate-split"}, splitProcesses...)},
		{"one with nats and jaeger", []string{"one", "nats", "jaeger"}, map[string]string{"EVENTS_BROKER": "nats", "TRACING": "otlp"},
			[]string{"postgres", "migrate", "app", "nats", "jaeger"}},
		{"split with nats", []string{"split", "nats"}, map[string]string{"EVENTS_BROKER": "nats"},
			append([]string{"postgres", "payments-db", "migrate-split", "nats"}, splitProcesses...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := loadCompose(t, "", tc.profiles, tc.extra)
			require.ElementsMatch(t, tc.services, sortedKeys(p.Services))
			for name, s := range p.Services {
				require.NotEmpty(t, s.Image, name)
				if s.Build == nil {
					requirePinned(t, s.Image)
				}
			}
			apps := appServices(p)
			runs := map[string]string{} // module → the service that runs it
			checks := map[string]placed{}
			for name, s := range apps {
				env := environment(s)
				checks[name] = requireCheckPasses(t, "compose service "+name, env)
				if isOneShot(s) {
					require.Equal(t, "no", s.Restart, name)
					require.Contains(t, s.DependsOn, "postgres", name)
					for dep, d := range s.DependsOn {
						require.Equal(t, types.ServiceConditionHealthy, d.Condition, "%s waits for %s's healthcheck", name, dep)
					}
				} else {
					require.NotNil(t, s.HealthCheck, name)
					require.Equal(t, types.HealthCheckTest{"CMD", "/app", "health"}, s.HealthCheck.Test, name)
					require.True(t, waitsForMigrations(p, name), "%s must wait, directly or not, for a migrate service to complete", name)
					require.Equal(t, "false", env["MIGRATE_ON_START"], "%s: migrations run once, in the one-shot service", name)
					for _, m := range checks[name].local() {
						require.Empty(t, runs[m], "%s runs in %s and %s", m, runs[m], name)
						runs[m] = name
					}
				}
				for _, opt := range []string{"nats", "jaeger"} {
					if _, on := p.Services[opt]; on && !isOneShot(s) {
						require.Contains(t, s.DependsOn, opt, "%s waits for %s when its profile is on", name, opt)
					}
				}
				for k, v := range tc.extra {
					require.Equal(t, v, env[k], "%s: %s from .env", name, k)
				}
			}
			require.ElementsMatch(t, modules.names(), sortedKeys(runs), "every module runs exactly once")
			for name, s := range p.Services {
				if strings.HasPrefix(s.Image, "postgres:") {
					require.Equal(t, "pg_isready", s.HealthCheck.Test[1], name)
				}
			}
			if slices.Contains(tc.profiles, "split") {
				require.Empty(t, splitWiring(t, p, runs, checks))
			}
		})
	}
}

// splitWiring lists what is wrong with the split's addresses: every
// module a process calls or delivers events to, at the address its check
// resolved (its <MODULE>_URL or OTHER_MODULES_URL), and every <MODULE>_URL
// it is given, must be the service that runs the module, on the image's
// HTTP port; payments keeps its data in a database of its own. runs maps each module to its service, checks each service's
// placement.
func splitWiring(t *testing.T, p *types.Project, runs map[string]string, checks map[string]placed) []string {
	t.Helper()
	_, port, _ := strings.Cut(imageEnv(t)["HTTP_ADDR"], ":")
	var problems []string
	at := func(name, what, module, raw string) {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %s: %v", name, what, err))
		case u.Hostname() != runs[module] || u.Port() != port:
			problems = append(problems, fmt.Sprintf("%s: %s is %s, but %s runs in %s on port %s", name, what, raw, module, runs[module], port))
		}
	}
	for _, name := range sortedKeys(appServices(p)) {
		env := environment(p.Services[name])
		for _, module := range sortedKeys(runs) {
			where := checks[name][module]
			if where != "local" && where != "" {
				at(name, "where it calls "+module, module, where)
			}
			if own := env[strings.ToUpper(module)+"_URL"]; own != "" {
				at(name, strings.ToUpper(module)+"_URL", module, own)
			}
		}
		if env["PAYMENTS_DATABASE_ISOLATION"] != "isolated" {
			problems = append(problems, name+": PAYMENTS_DATABASE_ISOLATION is not isolated")
		}
		if u, err := url.Parse(env["PAYMENTS_DATABASE_URL"]); err != nil || u.Hostname() != "payments-db" {
			problems = append(problems, name+": PAYMENTS_DATABASE_URL is not payments-db's")
		}
	}
	return problems
}

// waitsForMigrations reports whether service name depends, directly or
// through others, on a one-shot migrate service completing.
func waitsForMigrations(p *types.Project, name string) bool {
	for dep, d := range p.Services[name].DependsOn {
		s, ok := p.Services[dep]
		if !ok {
			continue
		}
		if isOneShot(s) && d.Condition == types.ServiceConditionCompletedSuccessfully {
			return true
		}
		if s.Build != nil && waitsForMigrations(p, dep) {
			return true
		}
	}
	return false
}

// requirePinned refuses an image without an exact tag (latest, or none).
func requirePinned(t *testing.T, image string) {
	t.Helper()
	tag := image[strings.LastIndex(image, ":")+1:]
	require.Regexp(t, `^v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$`, tag, "image %s must be pinned to an exact version", image)
}

// TestComposeHoldsNoSecret reads the file as written: every secret or
// password is interpolated from .env, never written in it, and none of the
// example values appears in it.
func TestComposeHoldsNoSecret(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	secretKey := regexp.MustCompile(`(?i)(secret|password|api_key|token)`)
	interpolated := regexp.MustCompile(`^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if s, ok := child.(string); ok && secretKey.MatchString(k) {
					require.Regexp(t, interpolated, s, "%s.%s must come from .env", path, k)
				}
				walk(path+"."+k, child)
			}
		case []any:
			for _, child := range v {
				walk(path, child)
			}
		case string:
			if u, err := url.Parse(v); err == nil && u.User != nil {
				pw, _ := u.User.Password()
				require.Regexp(t, interpolated, pw, "%s: the password in %q must come from .env", path, v)
			}
		}
	}
	walk("", doc)

	examples, err := os.ReadFile(envExample)
	require.NoError(t, err)
	for line := range strings.Lines(string(examples)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && !strings.HasPrefix(k, "#") && secretKey.MatchString(k) {
			require.NotContains(t, string(raw), v, "%s's example value is in the compose file", k)
			require.GreaterOrEqual(t, len(v), 32, "%s's example must pass app check", k)
		}
	}
}

// TestComposeCheckFailsABrokenFile proves the checks above have teeth: a
// file that loses the address of the rest, a module's URL or a secret
// would crash-loop, and app check says why; one whose USERS_URL names
// another service starts, and the wiring check names it.
func TestComposeCheckFailsABrokenFile(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	for want, broken := range map[string]string{
		// orders calls inventory, which runs in the rest.
		"INVENTORY_URL": strings.Replace(string(raw), "  OTHER_MODULES_URL: http://others:8080\n", "", 1),
		// The rest verifies tokens with users' keys; the other processes
		// would look for users in the rest, which the wiring check refuses.
		"USERS_URL":          strings.Replace(string(raw), "  USERS_URL: http://users:8080\n", "", 1),
		"SIGNING_KEY_SECRET": strings.Replace(string(raw), "      SERVICES: users\n      SIGNING_KEY_SECRET:", "      SERVICES: users\n      X_SIGNING_KEY_SECRET:", 1),
	} {
		require.NotEqual(t, string(raw), broken, "the variant for %s changes nothing", want)
		p := loadCompose(t, broken, []string{"split"}, nil)
		var failed []string
		for name, s := range appServices(p) {
			env := imageEnv(t)
			for k, v := range environment(s) {
				env[k] = v
			}
			if _, stderr, err := appCheck(t, env); err != nil {
				require.Contains(t, stderr, want, name)
				failed = append(failed, name)
			}
		}
		require.NotEmpty(t, failed, "app check must fail a compose file without %s", want)
	}

	misrouted := strings.Replace(string(raw), "  USERS_URL: http://users:8080\n", "  USERS_URL: http://orders:8080\n", 1)
	require.NotEqual(t, string(raw), misrouted)
	p := loadCompose(t, misrouted, []string{"split"}, nil)
	runs, checks := map[string]string{}, map[string]placed{}
	for name, s := range appServices(p) {
		checks[name] = requireCheckPasses(t, "compose service "+name, environment(s))
		if !isOneShot(s) {
			for _, m := range checks[name].local() {
				runs[m] = name
			}
		}
	}
	require.Contains(t, splitWiring(t, p, runs, checks), "orders: USERS_URL is http://orders:8080, but users runs in users on port 8080")
	require.Contains(t, splitWiring(t, p, runs, checks), "gateway: where it calls users is http://orders:8080, but users runs in users on port 8080")
}
