package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"mitosis/platform/pgtest"
)

// binaryEnv hands the path of the built app from the parent test process to
// the child that runs the tests.
const binaryEnv = "MITOSIS_E2E_APP"

// appBinary is the app under test, built once per `go test` run. TestMain
// writes it before any test runs; tests only read it.
var appBinary string

// TestMain builds the app once, without the race detector, and runs the
// tests against it on one PostgreSQL cluster.
//
// pgtest.Main ends in os.Exit, so nothing after it could remove the build.
// The process therefore runs twice: the parent builds into a temporary
// directory, runs this same test binary as a child with binaryEnv set, and
// removes the directory once the child is done.
func TestMain(m *testing.M) {
	if bin := os.Getenv(binaryEnv); bin != "" {
		appBinary = bin
		pgtest.Main(m)
	}
	os.Exit(buildAndRerun())
}

func buildAndRerun() int {
	dir, err := os.MkdirTemp("", "mitosis-e2e-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build:", err)
		return 1
	}

	child := exec.Command(os.Args[0], os.Args[1:]...)
	child.Env = append(os.Environ(), binaryEnv+"="+bin)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	child.SysProcAttr = dieWithParent()
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: run tests:", err)
		return 1
	}
	// Pass interrupts and go test's SIGQUIT on timeout to the child, and
	// outlive it so the deferred removal runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = child.Process.Signal(s)
		}
	}()
	err = child.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "e2e: tests:", err)
	return 1
}
