package web_test

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// dist/ is committed: the build from src/ and pages/ (node build.mjs, with
// the pinned esbuild) must give exactly the committed files. `make web`
// rebuilds it.
func TestDistIsFresh(t *testing.T) {
	_, err := os.Stat(filepath.Join("node_modules", "esbuild"))
	require.NoError(t, err, "web/node_modules is missing: run `npm ci` in web/ (make test does)")
	out := t.TempDir()
	cmd := exec.Command("node", "build.mjs", out)
	got, err := cmd.CombinedOutput()
	require.NoError(t, err, "node build.mjs: %s", got)

	want := files(t, "dist")
	built := files(t, out)
	require.Equal(t, slices.Sorted(maps.Keys(built)), slices.Sorted(maps.Keys(want)), "files of a fresh build (left) and of dist/ (right) differ: run make web")
	for name, body := range built {
		require.True(t, bytes.Equal(body, want[name]), "dist/%s is stale: run make web", name)
	}
}

func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		out[p], err = fs.ReadFile(os.DirFS(root), p)
		return err
	}))
	return out
}
