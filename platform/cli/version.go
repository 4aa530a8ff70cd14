package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"mitosis/platform/buildinfo"
)

// versionCommand is `app version`, the same line as `app --version`.
func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build time of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), buildinfo.Read())
			return err
		},
	}
}
