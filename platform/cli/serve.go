package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/dig"
	"go.uber.org/fx"

	"mitosis/platform/health"
	"mitosis/platform/process"
	"mitosis/platform/shutdown"
)

// startTimeout bounds the start, migrations included; stopping is bounded
// by SHUTDOWN_DELAY and SHUTDOWN_TIMEOUT (platform/shutdown).
const startTimeout = 2 * time.Minute

func serveCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the modules named by SERVICES (default: all) until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := env.load()
			if err != nil {
				return err
			}
			opts, _, err := process.Options(cfg, env.Specs, env.Tree, env.Site, log)
			if err != nil {
				return err
			}
			stopTimeout := cfg.Shutdown.Timeout + shutdown.Reserve
			var checks *health.Registry
			app := fx.New(opts, fx.Populate(&checks), fx.NopLogger, fx.StartTimeout(startTimeout), fx.StopTimeout(stopTimeout))
			if err := app.Err(); err != nil {
				return plainCause(err)
			}
			startCtx, cancel := context.WithTimeout(cmd.Context(), startTimeout)
			defer cancel()
			if err := app.Start(startCtx); err != nil {
				stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
				defer cancelStop()
				return errors.Join(err, app.Stop(stopCtx))
			}
			return shutdown.Run(cmd.Context(), app, cfg.Shutdown, checks, log)
		},
	}
}

// plainCause is the error a constructor returned, without the dependency
// injection trace fx wraps around it; a wiring bug (no constructor at all)
// keeps the whole trace, which is what a developer needs.
func plainCause(err error) error {
	cause := dig.RootCause(err)
	var wiring dig.Error
	if errors.As(cause, &wiring) {
		return err
	}
	return cause
}
