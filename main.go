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
	ctx := interrupted()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		// One line per problem: a configuration that cannot run names them all.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "error:", line)
		}
		os.Exit(1)
	}
}

// interrupted is cancelled by the first SIGTERM or SIGINT, which starts a
// graceful shutdown; a second one ends the process at once (exit 2), for
// the operator who will not wait.
func interrupted() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		sig := <-sigs
		fmt.Fprintln(os.Stderr, "error: second signal ("+sig.String()+"): exiting at once")
		os.Exit(2)
	}()
	return ctx
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
