package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"mitosis/platform/process"
)

const (
	startTimeout = 2 * time.Minute
	stopTimeout  = 30 * time.Second
)

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
			opts, _, err := process.Options(cfg, env.Specs, env.Tree, env.OpenAPI, log)
			if err != nil {
				return err
			}
			app := fx.New(opts, fx.NopLogger, fx.StartTimeout(startTimeout), fx.StopTimeout(stopTimeout))
			if err := app.Err(); err != nil {
				return err
			}
			startCtx, cancel := context.WithTimeout(cmd.Context(), startTimeout)
			defer cancel()
			if err := app.Start(startCtx); err != nil {
				stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
				defer cancelStop()
				return errors.Join(err, app.Stop(stopCtx))
			}
			<-cmd.Context().Done()
			log.Info("shutting down")
			stopCtx, cancelStop := context.WithTimeout(context.Background(), stopTimeout)
			defer cancelStop()
			return app.Stop(stopCtx)
		},
	}
}
