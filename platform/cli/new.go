package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mitosis/platform/scaffold"
)

// newCommand is `app new module NAME`: the scaffolder, run at the root of
// the repository.
func newCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "new", Short: "Write something new into the repository"}
	var (
		opts      scaffold.Options
		depends   string
		publishes string
		dryRun    bool
		dir       string
	)
	module := &cobra.Command{
		Use:   "module NAME",
		Short: "Write a new module that compiles and passes its contract suite in-process and over HTTP",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Now = args[0], time.Now()
			opts.Depends, opts.Publishes = splitFlag(depends), splitFlag(publishes)
			plan, err := scaffold.New(dir, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if dryRun {
				fmt.Fprintf(out, "would write module %s (nothing written):\n", opts.Name)
				printPaths(out, plan)
				return nil
			}
			if err := plan.Write(); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote module %s:\n", opts.Name)
			printPaths(out, plan)
			fmt.Fprint(out, nextSteps(opts))
			return nil
		},
	}
	module.Flags().StringVar(&depends, "depends", "", "modules whose contracts it calls, comma-separated")
	module.Flags().BoolVar(&opts.Isolated, "isolated", false, "keep its data in a database of its own by default")
	module.Flags().StringVar(&publishes, "publishes", "", "event types it publishes, comma-separated (like NAME.item_created)")
	module.Flags().BoolVar(&dryRun, "dry-run", false, "print the files it would write, and write none")
	module.Flags().StringVar(&dir, "dir", ".", "the root of the repository")
	cmd.AddCommand(module)
	return cmd
}

func printPaths(out io.Writer, plan *scaffold.Plan) {
	for _, p := range plan.Paths() {
		fmt.Fprintln(out, "  "+p)
	}
}

func nextSteps(opts scaffold.Options) string {
	n := opts.Name
	steps := fmt.Sprintf(`next:
  go test ./modules/%[1]s/...       its contract suite, in-process and over HTTP
  make test                          everything, the new module in every topology
  SERVICES=%[1]s app serve            run it alone (with the others' <MODULE>_URL)
  then make the example its own: the contract in modules/%[1]s/%[1]s.go, the
  domain in internal/app, the schema in migrations/%[1]s/, the routes in
  internal/httpapi and modules/%[1]s/openapi.yaml, the suite in %[1]stest/
`, n)
	if opts.Isolated {
		steps += fmt.Sprintf("  %[1]s_DATABASE_URL names its own database wherever it runs: choose one and\n"+
			"  give it to deploy/'s examples (compose, the chart's modules.%[2]s.database.url),\n"+
			"  whose checks in make test name it until then\n", strings.ToUpper(n), n)
	}
	return steps
}

// splitFlag parses "a, b,,c" into [a b c]; a name twice is refused later.
func splitFlag(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
