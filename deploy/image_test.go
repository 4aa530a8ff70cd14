package deploy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// dockerfile is the one image every deployment runs.
const dockerfile = "../Dockerfile"

// imageEnv is the ENV of the Dockerfile's final stage: what every container
// of the image starts with, under what compose or the chart add.
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, inst := range finalStage(t) {
		if inst.cmd != "ENV" {
			continue
		}
		for _, pair := range strings.Fields(inst.args) {
			k, v, ok := strings.Cut(pair, "=")
			require.True(t, ok, "ENV %q: only KEY=value pairs are understood here", inst.args)
			env[k] = strings.Trim(v, `"`)
		}
	}
	return env
}

type instruction struct{ cmd, args string }

// finalStage parses the instructions after the Dockerfile's last FROM,
// joining continued lines.
func finalStage(t *testing.T) []instruction {
	t.Helper()
	raw, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	var stage []instruction
	var cur string
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		cur += " " + strings.TrimSuffix(trimmed, `\`)
		if strings.HasSuffix(trimmed, `\`) {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur), " ")
		cur = ""
		if cmd = strings.ToUpper(cmd); cmd == "FROM" {
			stage = nil
		}
		stage = append(stage, instruction{cmd, strings.TrimSpace(args)})
	}
	return stage
}

// TestImage checks the run stage: distroless and non-root, production by
// default, both ports exposed, labelled with its version and revision.
func TestImage(t *testing.T) {
	byCmd := map[string][]string{}
	for _, inst := range finalStage(t) {
		byCmd[inst.cmd] = append(byCmd[inst.cmd], inst.args)
	}
	require.Equal(t, []string{"gcr.io/distroless/static-debian12:nonroot"}, byCmd["FROM"])
	require.Equal(t, []string{"nonroot:nonroot"}, byCmd["USER"])
	require.Equal(t, []string{"8080 9090"}, byCmd["EXPOSE"])
	require.Empty(t, byCmd["HEALTHCHECK"], "no shell in the image: compose and Kubernetes probe instead")
	require.Equal(t, map[string]string{"APP_ENV": "production", "HTTP_ADDR": ":8080", "ADMIN_ADDR": ":9090"}, imageEnv(t))
	labels := strings.Join(byCmd["LABEL"], " ")
	for _, l := range []string{"org.opencontainers.image.version=\"${VERSION}\"", "org.opencontainers.image.revision=\"${REVISION}\"", "org.opencontainers.image.created="} {
		require.Contains(t, labels, l)
	}
	raw, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	require.Contains(t, string(raw), "-X mitosis/platform/buildinfo.version=${VERSION}", "the binary is stamped with its version")
}
