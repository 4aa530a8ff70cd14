package cli

import (
	"context"

	"github.com/spf13/cobra"

	"mitosis/platform/db"
	"mitosis/platform/preflight"
	"mitosis/platform/topology"
)

// moduleCommands adds `app <module> <command>` for every module that has
// maintenance commands.
func moduleCommands(env Env) []*cobra.Command {
	var out []*cobra.Command
	for _, spec := range env.Specs {
		if len(spec.Commands) == 0 {
			continue
		}
		group := &cobra.Command{Use: spec.Name, Short: "Maintenance commands of the " + spec.Name + " module"}
		for _, c := range spec.Commands {
			group.AddCommand(&cobra.Command{
				Use: c.Use, Short: c.Short, Args: cobra.ExactArgs(c.Args),
				RunE: func(cmd *cobra.Command, args []string) error {
					return env.runModuleCommand(cmd.Context(), spec.Name, c, cmd, args)
				},
			})
		}
		out = append(out, group)
	}
	return out
}

// runModuleCommand opens the module's data (provisioned and migrated, as
// serve would) and runs c on it.
func (env Env) runModuleCommand(ctx context.Context, module string, c topology.Command, cmd *cobra.Command, args []string) error {
	cfg, log, err := env.loadFor(preflight.Maintain)
	if err != nil {
		return err
	}
	if _, err := selectModules(env.Specs, cfg, module); err != nil {
		return err
	}
	cluster, err := openCluster(ctx, cfg, []string{module}, log)
	if err != nil {
		return err
	}
	defer cluster.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // best effort at exit
	t, err := db.TargetFor(cfg, cluster, module)
	if err != nil {
		return err
	}
	bdb, err := db.Open(t, 2)
	if err != nil {
		return err
	}
	defer bdb.Close()
	if err := db.Prepare(ctx, t, bdb, env.Tree, log); err != nil {
		return err
	}
	return c.Run(ctx, topology.CommandEnv{Config: cfg, DB: bdb, Log: log, Out: cmd.OutOrStdout()}, args)
}
