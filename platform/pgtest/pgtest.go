// Package pgtest gives tests throwaway PostgreSQL databases: one server per
// test binary (started by Main) and a fresh database per test (NewDatabase).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"mitosis/platform/pgserver"
)

// adminURL is the superuser URL of database "postgres" on the test server.
// It is a package variable because testing.M offers no way to hand values to
// tests: Main writes it once before m.Run, tests only read it afterwards.
var adminURL string

// startTimeout bounds initdb plus server startup.
const startTimeout = 60 * time.Second

// Main starts one cluster for the test binary (or uses $TEST_DATABASE_URL
// if set: a superuser URL to an existing server), runs the tests and stops
// the cluster. Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The cluster lives in a temporary directory removed afterwards, with fsync
// off for speed. Main calls os.Exit with the tests' exit code.
func Main(m *testing.M) {
	os.Exit(run(m))
}

// run is Main without os.Exit, so deferred cleanup runs before exiting.
func run(m *testing.M) int {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL = u
		return m.Run()
	}
	base, err := os.MkdirTemp("", "pgtest-*")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: create temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(base)
	// MkdirTemp makes a 0700 directory; the server may run as the postgres
	// user (when we are root), which must be able to traverse it.
	if err := os.Chmod(base, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: chmod temp dir: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(base, "pg")})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: start PostgreSQL (or set TEST_DATABASE_URL): %v\n", err)
		return 1
	}
	if srv.Dir() != filepath.Join(base, "pg") {
		// Moved to a fallback location outside base; remove that too.
		defer os.RemoveAll(srv.Dir())
	}
	adminURL = srv.URL("postgres")

	code := m.Run()

	stopCtx, stopCancel := context.WithTimeout(context.Background(), startTimeout)
	defer stopCancel()
	if err := srv.Stop(stopCtx); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// AdminURL returns the superuser URL of database "postgres" on the test
// server. It fails the test if Main did not run.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	if adminURL == "" {
		tb.Fatal("pgtest: no test server; call pgtest.Main(m) from TestMain or set TEST_DATABASE_URL")
	}
	return adminURL
}

// NewDatabase creates an empty database with a unique name and returns its
// superuser URL. The database is dropped, with any open connections, when
// the test finishes.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("pgtest: admin URL must be a postgres:// URL: %q", admin)
	}
	buf := make([]byte, 8)
	if _, err := rand.Read(buf); err != nil {
		tb.Fatalf("pgtest: random database name: %v", err)
	}
	name := "t_" + hex.EncodeToString(buf)

	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on its own connection. It uses its own
// context because the test's context is already cancelled during Cleanup.
func adminExec(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
