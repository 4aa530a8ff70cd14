package pgserver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFindBinariesDebianLayout(t *testing.T) {
	const want = "/usr/lib/postgresql/15/bin"
	if checkBinDir(want) != nil {
		t.Skip("PostgreSQL 15 is not installed at " + want)
	}
	t.Setenv("PG_BIN_DIR", "")
	dir, err := FindBinaries()
	require.NoError(t, err)
	require.Equal(t, want, dir)
}

func TestFindBinariesHonoursPGBinDir(t *testing.T) {
	t.Setenv("PG_BIN_DIR", t.TempDir())
	_, err := FindBinaries()
	require.ErrorContains(t, err, "PG_BIN_DIR=")
}

func TestFromDebianLayoutPicksHighestComplete(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	fake := func(version string, progs ...string) {
		bin := filepath.Join(root, version, "bin")
		require.NoError(t, os.MkdirAll(bin, 0o755))
		for _, p := range progs {
			require.NoError(t, os.WriteFile(filepath.Join(bin, p), nil, 0o755))
		}
	}
	fake("9", "initdb", "pg_ctl", "postgres")
	fake("15", "initdb", "pg_ctl", "postgres")
	fake("16", "initdb") // incomplete: client-only leftovers
	fake("common")

	dir, ok := fromDebianLayout(root)
	require.True(t, ok)
	require.Equal(t, filepath.Join(root, "15", "bin"), dir)
}

func TestNoBinariesMessageSaysHowToInstall(t *testing.T) {
	t.Parallel()
	require.Contains(t, noBinariesMsg, "apt-get install postgresql")
	require.Contains(t, noBinariesMsg, "brew install postgresql@15")
	require.Contains(t, noBinariesMsg, "DATABASE_URL")
}
