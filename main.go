// Command app runs Mitosis: every module in one process, or only those
// named by SERVICES, calling the others over HTTP.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mitosis/migrations"
	"mitosis/modules"
	"mitosis/platform/cli"
	"mitosis/platform/config"
	"mitosis/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		// One line per problem: a configuration that cannot run names them all.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "error:", line)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	root := cli.New(cli.Env{
		Specs:  modules.All(),
		Tree:   migrations.Tree(),
		Site:   web.Site(),
		Getenv: getenv,
		Stdout: stdout,
		Stderr: stderr,
	})
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
