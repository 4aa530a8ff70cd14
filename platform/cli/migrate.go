package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/preflight"
	"mitosis/platform/topology"
)

func migrateCommand(env Env) *cobra.Command {
	var module, dir string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back, list or create the SQL migrations of the local modules",
	}
	cmd.PersistentFlags().StringVar(&module, "module", "", "act on this module only (default: every local module)")
	each := func(use, short string, act func(context.Context, *db.Migrator, string) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return env.forEachModule(cmd.Context(), module, act)
			},
		}
	}
	out := cmd.OutOrStdout
	cmd.AddCommand(
		each("up", "Apply every pending migration", func(ctx context.Context, m *db.Migrator, name string) error {
			applied, err := m.Up(ctx)
			fmt.Fprintf(out(), "%s: applied %d %v\n", name, len(applied), applied)
			return err
		}),
		each("down", "Roll back the last applied group", func(ctx context.Context, m *db.Migrator, name string) error {
			undone, err := m.Down(ctx)
			fmt.Fprintf(out(), "%s: rolled back %d %v\n", name, len(undone), undone)
			return err
		}),
		each("status", "List migrations and whether each is applied", func(ctx context.Context, m *db.Migrator, name string) error {
			list, err := m.Status(ctx)
			for _, s := range list {
				state := "pending"
				if s.Applied {
					state = "applied"
				}
				fmt.Fprintf(out(), "%s\t%s\t%s\n", name, state, s.Name)
			}
			return err
		}),
	)
	create := &cobra.Command{
		Use: "create NAME", Short: "Write an empty up/down migration pair into migrations/<module>/",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if module == "" {
				return errors.New("migrate create needs --module")
			}
			if !slices.ContainsFunc(env.Specs, func(s topology.Spec) bool { return s.Name == module }) {
				return fmt.Errorf("unknown module %q", module)
			}
			paths, err := db.Create(dir, module, args[0], time.Now())
			for _, p := range paths {
				fmt.Fprintln(out(), "created", p)
			}
			return err
		},
	}
	create.Flags().StringVar(&dir, "dir", "migrations", "the migrations source folder")
	cmd.AddCommand(create)
	return cmd
}

// forEachModule connects to each selected local module's data, provisions
// it, and runs act.
func (env Env) forEachModule(ctx context.Context, only string, act func(context.Context, *db.Migrator, string) error) error {
	cfg, log, err := env.loadFor(preflight.Maintain)
	if err != nil {
		return err
	}
	local, err := selectModules(env.Specs, cfg, only)
	if err != nil {
		return err
	}
	if err := db.Validate(cfg, local); err != nil {
		return err
	}
	cluster, err := openCluster(ctx, cfg, local, log)
	if err != nil {
		return err
	}
	defer cluster.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // best effort at exit
	for _, name := range local {
		if err := migrateOne(ctx, cfg, cluster, env.Tree, name, act); err != nil {
			return err
		}
	}
	return nil
}

func migrateOne(ctx context.Context, cfg config.Config, cluster *db.Cluster, tree db.Migrations, name string, act func(context.Context, *db.Migrator, string) error) error {
	t, err := db.TargetFor(cfg, cluster, name)
	if err != nil {
		return err
	}
	if err := db.Provision(ctx, t); err != nil {
		return err
	}
	bdb, err := db.Open(t, 2)
	if err != nil {
		return err
	}
	defer bdb.Close()
	m, err := db.NewMigrator(bdb, tree, name)
	if err != nil {
		return err
	}
	return act(ctx, m, name)
}

func selectModules(specs []topology.Spec, cfg config.Config, only string) ([]string, error) {
	place, err := topology.Plan(specs, cfg)
	if err != nil {
		return nil, err
	}
	if only == "" {
		return place.LocalData(), nil
	}
	if !place.IsLocal(only) {
		return nil, fmt.Errorf("module %q is not local here (SERVICES=%v)", only, place.Local())
	}
	if !slices.Contains(place.LocalData(), only) {
		return nil, fmt.Errorf("module %q keeps no data", only)
	}
	return []string{only}, nil
}

func openCluster(ctx context.Context, cfg config.Config, local []string, log *slog.Logger) (*db.Cluster, error) {
	if cfg.Database.URL != "" {
		return &db.Cluster{AdminURL: cfg.Database.URL}, nil
	}
	for _, name := range local {
		if cfg.Isolation(name) == config.Shared && cfg.Module(name).Database.URL == "" {
			return db.StartEmbedded(ctx, cfg.DataDir, log)
		}
	}
	return &db.Cluster{}, nil
}
