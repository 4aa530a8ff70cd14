package pgserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestResolveDirPrivateParent(t *testing.T) {
	t.Parallel()
	private, err := os.MkdirTemp("", "pgserver-private-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(private) })
	require.NoError(t, os.Chmod(private, 0o700))
	preferred := filepath.Join(private, "checkout", "pg")

	dir, moved, err := ResolveDir(preferred)
	require.NoError(t, err)
	if os.Geteuid() != 0 {
		// The server runs as us, so our own private directory is fine.
		require.False(t, moved)
		require.Equal(t, preferred, dir)
		return
	}
	require.True(t, moved)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sum := sha256.Sum256([]byte(preferred))
	hash := hex.EncodeToString(sum[:])[:12]
	require.True(t, dir == "/var/lib/mitosis/"+hash || dir == "/var/tmp/mitosis-"+hash, dir)

	id, err := serverIdentity()
	require.NoError(t, err)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	owner, ok := ownerUID(fi)
	require.True(t, ok)
	require.Equal(t, id.uid, owner)
	require.True(t, id.can("-x", dir), "postgres can traverse %s", dir)
	require.True(t, id.can("-w", dir), "postgres can write into %s", dir)

	// And a server really runs there, logging why it moved.
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Dir: preferred, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	require.Equal(t, dir, s.Dir())
	require.Equal(t, 1, queryInt(t, s.URL("postgres"), "SELECT 1"))
	require.NoError(t, s.Stop(ctx))
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "cannot traverse "+private)

	// Stable: the same checkout maps to the same place every time.
	again, moved, err := ResolveDir(preferred)
	require.NoError(t, err)
	require.True(t, moved)
	require.Equal(t, dir, again)
}

func TestResolveDirOpenTree(t *testing.T) {
	t.Parallel()
	open, err := os.MkdirTemp("", "pgserver-open-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(open) })
	require.NoError(t, os.Chmod(open, 0o755))
	preferred := filepath.Join(open, "pg")

	id, err := serverIdentity()
	require.NoError(t, err)
	if !id.can("-x", open) {
		t.Skip("the temp directory's parents are not traversable by " + id.name)
	}
	dir, moved, err := ResolveDir(preferred)
	require.NoError(t, err)
	require.False(t, moved)
	require.Equal(t, preferred, dir)
}

func TestResolveDirRelative(t *testing.T) {
	t.Parallel()
	dir, moved, err := ResolveDir("relative-pg-dir-that-does-not-exist")
	require.NoError(t, err)
	require.True(t, filepath.IsAbs(dir))
	if moved {
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
	} else {
		wd, err := os.Getwd()
		require.NoError(t, err)
		require.Equal(t, filepath.Join(wd, "relative-pg-dir-that-does-not-exist"), dir)
	}
}
