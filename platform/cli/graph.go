package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"mitosis/platform/topology"
)

// graphCommand is `app graph`: the modules and their edges, from the specs
// (topology.Graph).
func graphCommand(env Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Print the module graph (depends_on, publishes, subscribes) as YAML or JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			graph := topology.Graph(env.Specs)
			out := cmd.OutOrStdout()
			switch format {
			case "yaml":
				raw, err := graph.YAML()
				if err != nil {
					return err
				}
				_, err = out.Write(raw)
				return err
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(graph)
			}
			return fmt.Errorf("--format must be yaml or json, got %q", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "yaml", "yaml or json")
	return cmd
}
