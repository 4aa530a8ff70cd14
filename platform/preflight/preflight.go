// Package preflight checks, before anything starts, that a process can run
// with its configuration: every setting, where each module runs, where the
// local modules' data lives, and the secrets this process needs. It works
// from the configuration alone: no port is bound, no database touched.
// `app check` prints what it finds; every other command that loads the
// configuration runs it first, so a process that cannot run says everything
// wrong at once, one line each, instead of one problem per restart.
package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/topology"
)

// Scope says what a command needs checked.
type Scope int

const (
	// Serve checks everything serving needs: the settings, the placement,
	// the data, the service credentials, the keys that verify access tokens
	// and each local module's own checks (its secrets).
	Serve Scope = iota
	// Maintain checks what the maintenance commands (migrate, events,
	// services, a module's commands) need: the settings, the placement and
	// the data, not the secrets of serving.
	Maintain
)

// Load reads the configuration a process would run with (the environment
// over its env files, see config.WithEnvFiles) and checks it for scope. A
// configuration with problems comes back with config.Problems naming every
// one; an error of another kind (an unreadable file) stops the load.
func Load(getenv config.Getenv, specs []topology.Spec, scope Scope) (config.Config, error) {
	getenv, err := config.WithEnvFiles(getenv)
	if err != nil {
		return config.Config{}, err
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	cfg, err := config.Load(getenv, names, topology.Sections(specs)...)
	var problems config.Problems
	if err != nil && !errors.As(err, &problems) {
		return cfg, err
	}
	problems = append(problems, Check(cfg, specs, scope)...)
	if len(problems) > 0 {
		return cfg, problems
	}
	return cfg, nil
}

// Check lists what stops cfg from running the modules it places here:
// SERVICES and the module URLs, and the data of the local modules; to
// serve, also the service credentials, the keys that verify access tokens,
// and each local module's own checks (topology.Spec.Check).
func Check(cfg config.Config, specs []topology.Spec, scope Scope) config.Problems {
	var problems config.Problems
	if _, err := topology.Plan(specs, cfg); err != nil {
		problems = append(problems, lines(err)...)
	}
	problems = append(problems, moduleGraph(cfg, specs)...)
	local := localSpecs(specs, cfg)
	var data []string
	for _, s := range local {
		if !s.Stateless {
			data = append(data, s.Name)
		}
	}
	if err := db.Validate(cfg, data); err != nil {
		problems = append(problems, lines(err)...)
	}
	if scope != Serve {
		return problems
	}
	problems = append(problems, serviceAuth(cfg)...)
	issuer := topology.TokenIssuer(specs)
	issuerHere := slices.ContainsFunc(local, func(s topology.Spec) bool { return s.Name == issuer })
	if issuer != "" && !issuerHere && cfg.IsProduction() && auth.JWKSURL(cfg, issuer) == "" {
		problems = append(problems, auth.MissingJWKS(issuer))
	}
	for _, s := range local {
		if s.Check != nil {
			problems = append(problems, s.Check(cfg)...)
		}
	}
	return problems
}

// moduleGraph checks MODULE_GRAPH: a deployment that placed the modules
// and computed their addresses and network policies from one graph (the
// chart's files/modules.yaml, generated, so it can lag behind an image)
// must not run a binary with another, which it would place wrongly.
func moduleGraph(cfg config.Config, specs []topology.Spec) []string {
	if cfg.ModuleGraph == "" {
		return nil
	}
	digest, err := topology.Graph(specs).Digest()
	if err != nil {
		return []string{"MODULE_GRAPH: " + err.Error()}
	}
	if digest == cfg.ModuleGraph {
		return nil
	}
	return []string{fmt.Sprintf("MODULE_GRAPH is %s, but this binary's module graph is %s: the deployment was computed "+
		"from another binary's modules (package the chart from this image's source: make chart)", cfg.ModuleGraph, digest)}
}

// serviceAuth checks the credentials of the SERVICE_AUTH strategy, which
// every process needs: each guards its internal routes.
func serviceAuth(cfg config.Config) []string {
	switch cfg.Auth.ServiceAuth {
	case auth.ServiceAuthAPIKey:
		if len(cfg.Auth.ServiceAPIKey) < 32 {
			return []string{"SERVICE_API_KEY (at least 32 characters) is required when SERVICE_AUTH=api-key"}
		}
	case auth.ServiceAuthJWT:
		if problem := auth.CheckSecret(cfg, "SERVICE_SECRET", cfg.Auth.ServiceSecret); problem != "" {
			return []string{problem + " (SERVICE_AUTH=jwt signs service tokens with it)"}
		}
	}
	return nil
}

// localSpecs are the specs of the modules SERVICES runs (every one when
// unset, every one but those named "-name" when it leaves some out). Of a
// SERVICES Plan refuses (Plan reports it), the known modules it names to
// run are checked still, so every problem is reported at once.
func localSpecs(specs []topology.Spec, cfg config.Config) []topology.Spec {
	local, err := topology.LocalModules(specs, cfg.Services)
	if err != nil {
		local = slices.DeleteFunc(slices.Clone(cfg.Services), func(name string) bool { return strings.HasPrefix(name, "-") })
	}
	var out []topology.Spec
	for _, s := range specs {
		if slices.Contains(local, s.Name) {
			out = append(out, s)
		}
	}
	return out
}

// lines splits a joined error into its problems.
func lines(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
