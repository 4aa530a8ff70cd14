// Package cli is the app command: serve, check, migrate, services, events,
// health, graph, advise, version.
package cli

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"mitosis/platform/buildinfo"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/logging"
	"mitosis/platform/preflight"
	"mitosis/platform/topology"
	"mitosis/platform/webui"
)

// Env is what every command needs from main.
type Env struct {
	Specs []topology.Spec
	Tree  db.Migrations
	// Site is the document of the public API and the pages.
	Site   webui.Site
	Getenv config.Getenv
	Stdout io.Writer
	Stderr io.Writer
}

// New returns the root command.
func New(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "Mitosis: a modular monolith that divides into services",
		Version:       buildinfo.Read().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.AddCommand(serveCommand(env), checkCommand(env), migrateCommand(env), servicesCommand(env), eventsCommand(env),
		healthCommand(env), graphCommand(env), adviseCommand(env), openapiCommand(env), newCommand(), versionCommand())
	root.AddCommand(moduleCommands(env)...)
	return root
}

// load reads the configuration and runs the startup checks of serve on it
// (preflight), so a configuration that cannot run fails with every problem
// named at once, nothing started.
func (env Env) load() (config.Config, *slog.Logger, error) { return env.loadFor(preflight.Serve) }

// loadFor is load with the checks of scope: the maintenance commands fail
// alike, but need no secret of serving.
func (env Env) loadFor(scope preflight.Scope) (config.Config, *slog.Logger, error) {
	cfg, err := preflight.Load(env.Getenv, env.Specs, scope)
	log := logging.New(cfg, env.Stderr) // LOG_FORMAT and LOG_LEVEL; text at info if cfg did not load
	return cfg, log, err
}

// configOnly reads the configuration without the startup checks, for
// commands that only probe a running process.
func (env Env) configOnly() (config.Config, error) {
	getenv, err := config.WithEnvFiles(env.Getenv)
	if err != nil {
		return config.Config{}, err
	}
	var names []string
	for _, s := range env.Specs {
		names = append(names, s.Name)
	}
	return config.Load(getenv, names, topology.Sections(env.Specs)...)
}
