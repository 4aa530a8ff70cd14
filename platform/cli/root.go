// Package cli is the app command: serve, migrate, services, events.
package cli

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/logging"
	"mitosis/platform/topology"
)

// Env is what every command needs from main.
type Env struct {
	Specs []topology.Spec
	Tree  db.Migrations
	// OpenAPI is the document of the public API (YAML or JSON).
	OpenAPI []byte
	Getenv  config.Getenv
	Stdout  io.Writer
	Stderr  io.Writer
}

// New returns the root command.
func New(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "Mitosis: a modular monolith that divides into services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.AddCommand(serveCommand(env), migrateCommand(env), servicesCommand(env), eventsCommand(env))
	root.AddCommand(moduleCommands(env)...)
	return root
}

func (env Env) load() (config.Config, *slog.Logger, error) {
	var names []string
	for _, s := range env.Specs {
		names = append(names, s.Name)
	}
	cfg, err := config.Load(env.Getenv, names)
	log := logging.New(cfg, env.Stderr) // LOG_FORMAT and LOG_LEVEL; text at info if cfg did not load
	return cfg, log, err
}
