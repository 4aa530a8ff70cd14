package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/preflight"
	"mitosis/platform/topology"
)

func servicesCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "services",
		Short: "Print where each module runs and which database and schema it uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := env.loadFor(preflight.Maintain)
			if err != nil {
				return err
			}
			place, err := topology.Plan(env.Specs, cfg)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MODULE\tRUNS\tDATABASE\tSCHEMA\tROLE")
			for _, s := range env.Specs {
				data := "no data\t-\t-"
				if !s.Stateless {
					data = describeData(cfg, s.Name)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Name, where(place, s.Name), data)
			}
			return w.Flush()
		},
	}
}

func where(place topology.Placement, name string) string {
	switch {
	case place.IsLocal(name):
		return "here"
	case place.URL(name) != "":
		return place.URL(name)
	}
	return "elsewhere (not called from here)"
}

// describeData says where a module's data lives without connecting.
func describeData(cfg config.Config, name string) string {
	cluster := &db.Cluster{AdminURL: cfg.Database.URL}
	embedded := cfg.Database.URL == ""
	if embedded {
		cluster.AdminURL = "postgres://postgres@embedded/mitosis"
	}
	t, err := db.TargetFor(cfg, cluster, name)
	if err != nil {
		return fmt.Sprintf("error: %v\t-\t-", err)
	}
	where := t.Isolation + " " + db.Redacted(t.URL)
	if embedded && t.Isolation == config.Shared && cfg.Module(name).Database.URL == "" {
		where = fmt.Sprintf("shared, embedded PostgreSQL under %s/postgres", cfg.DataDir)
	}
	role := t.Role
	if role == "" {
		role = "(from URL)"
	}
	return fmt.Sprintf("%s\t%s\t%s", where, t.Schema, role)
}
