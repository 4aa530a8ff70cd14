package cli

import (
	"github.com/spf13/cobra"

	"mitosis/platform/apidoc"
	"mitosis/platform/topology"
)

// openapiCommand is `app openapi`: the public API's document as every
// process serves it at /openapi.json (the base with each module's part
// merged in), for linters and clients; it needs no configuration.
func openapiCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI document of the public API (JSON), every module's part merged in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := apidoc.Parse(env.Site.OpenAPI, topology.OpenAPI(env.Specs)...)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(doc.JSON(), '\n'))
			return err
		},
	}
}
