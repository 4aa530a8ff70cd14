package pgserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// noBinariesMsg explains how to get a server, because the people who hit it
// are usually setting up a new machine.
const noBinariesMsg = ("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: " +
	"install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), " +
	"set PG_BIN_DIR to the directory holding them, or set DATABASE_URL to use an existing server")

// FindBinaries returns the directory holding initdb, pg_ctl and postgres.
// It looks, in order, at $PG_BIN_DIR, `pg_config --bindir`, the highest
// /usr/lib/postgresql/<N>/bin (Debian layout), and the directory of initdb
// on PATH.
func FindBinaries() (string, error) {
	if dir := os.Getenv("PG_BIN_DIR"); dir != "" {
		// An explicit setting that is wrong should be reported, not silently
		// replaced by another installation.
		if err := checkBinDir(dir); err != nil {
			return "", fmt.Errorf("PG_BIN_DIR=%s: %w", dir, err)
		}
		return dir, nil
	}
	if dir, ok := fromPgConfig(); ok {
		return dir, nil
	}
	if dir, ok := fromDebianLayout("/usr/lib/postgresql"); ok {
		return dir, nil
	}
	if dir, ok := fromPath(); ok {
		return dir, nil
	}
	return "", errors.New(noBinariesMsg)
}

// checkBinDir reports whether dir holds the programs Start runs.
func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s: not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

// fromPgConfig asks pg_config; it may come from a client-only package
// (libpq-dev), so the result is only used if the server programs are there.
func fromPgConfig() (string, bool) {
	path, err := exec.LookPath("pg_config")
	if err != nil {
		return "", false
	}
	out, err := exec.Command(path, "--bindir").Output()
	if err != nil {
		return "", false
	}
	dir := strings.TrimSpace(string(out))
	return dir, dir != "" && checkBinDir(dir) == nil
}

// fromDebianLayout picks the newest major version installed side by side.
func fromDebianLayout(root string) (string, bool) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", false
	}
	var versions []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			versions = append(versions, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(versions)))
	for _, v := range versions {
		dir := filepath.Join(root, strconv.Itoa(v), "bin")
		if checkBinDir(dir) == nil {
			return dir, true
		}
	}
	return "", false
}

// fromPath follows symlinks because initdb on PATH is often a link into the
// real installation, where pg_ctl and postgres live.
func fromPath() (string, bool) {
	path, err := exec.LookPath("initdb")
	if err != nil {
		return "", false
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", false
	}
	for _, dir := range []string{filepath.Dir(real), filepath.Dir(path)} {
		if abs, err := filepath.Abs(dir); err == nil && checkBinDir(abs) == nil {
			return abs, true
		}
	}
	return "", false
}
