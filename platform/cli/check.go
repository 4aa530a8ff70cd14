package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"mitosis/platform/topology"
)

// checkCommand is `app check`: the startup checks of serve, and nothing
// else. A configuration that could not run fails (main prints each problem
// on its own line and exits 1); one that could prints one line.
func checkCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check the configuration and placement serve would run with, without binding a port or touching a database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := env.load()
			if err != nil {
				return err
			}
			place, err := topology.Plan(env.Specs, cfg)
			if err != nil {
				return err // load has checked the placement already
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ok: %s; %s\n", cfg.Env, strings.Join(place.Describe(env.Specs), "; "))
			return err
		},
	}
}
