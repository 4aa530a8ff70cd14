package deploy_test

import (
	"context"
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

// TestComposeProfiles loads each profile and checks its shape: the services
// it runs, migrations once before the modules, a healthcheck everywhere,
// and every app process's environment passing `app check`.
func TestComposeProfiles(t *testing.T) {
	modules := graphModules(t)
	cases := []struct {
		name     string
		profiles []string
		extra    map[string]string
		services []string
	}{
		{"one", []string{"one"}, nil, []string{"postgres", "migrate", "app"}},
		// The split runs every module in a process of its own, named after it.
		{"split", []string{"split"}, nil, append([]string{"postgres", "payments-db", "migrate-split"}, modules.names()...)},
		{"one with nats and jaeger", []string{"one", "nats", "jaeger"}, map[string]string{"EVENTS_BROKER": "nats", "TRACING": "otlp"},
			[]string{"postgres", "migrate", "app", "nats", "jaeger"}},
		{"split with nats", []string{"split", "nats"}, map[string]string{"EVENTS_BROKER": "nats"},
			append([]string{"postgres", "payments-db", "migrate-split", "nats"}, modules.names()...)},
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
			placed := map[string]string{}
			for name, s := range apps {
				env := environment(s)
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
					local := env["SERVICES"]
					if local == "" {
						local = strings.Join(modules.names(), ",")
					}
					for _, m := range strings.Split(local, ",") {
						require.Empty(t, placed[m], "%s runs in %s and %s", m, placed[m], name)
						placed[m] = name
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
				requireCheckPasses(t, "compose service "+name, env)
			}
			require.ElementsMatch(t, modules.names(), sortedKeys(placed), "every module runs exactly once")
			for name, s := range p.Services {
				if strings.HasPrefix(s.Image, "postgres:") {
					require.Equal(t, "pg_isready", s.HealthCheck.Test[1], name)
				}
			}
			if slices.Contains(tc.profiles, "split") {
				requireSplitWiring(t, p)
			}
		})
	}
}

// requireSplitWiring checks that every module URL of every split process
// names the service that runs the module, on the image's HTTP port, and
// that payments keeps its data in a database of its own.
func requireSplitWiring(t *testing.T, p *types.Project) {
	t.Helper()
	runs := map[string]string{} // module → service
	for name, s := range appServices(p) {
		if m := environment(s)["SERVICES"]; m != "" {
			runs[m] = name
		}
	}
	_, port, _ := strings.Cut(imageEnv(t)["HTTP_ADDR"], ":")
	for name, s := range appServices(p) {
		env := environment(s)
		for k, v := range env {
			module, ok := strings.CutSuffix(k, "_URL")
			if !ok || strings.Contains(module, "_") || k == "NATS_URL" || k == "DATABASE_URL" || k == "JWKS_URL" {
				continue
			}
			u, err := url.Parse(v)
			require.NoError(t, err)
			require.Equal(t, runs[strings.ToLower(module)], u.Hostname(), "%s: %s", name, k)
			require.Equal(t, port, u.Port(), "%s: %s", name, k)
		}
		require.Equal(t, "isolated", env["PAYMENTS_DATABASE_ISOLATION"], name)
		u, err := url.Parse(env["PAYMENTS_DATABASE_URL"])
		require.NoError(t, err)
		require.Equal(t, "payments-db", u.Hostname(), name)
	}
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

// TestComposeCheckFailsABrokenFile proves the check above has teeth: a file
// that loses a module URL, or a secret, would crash-loop, and app check
// says why.
func TestComposeCheckFailsABrokenFile(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	for want, broken := range map[string]string{
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
}
