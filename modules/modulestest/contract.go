package modulestest

import (
	"maps"
	"testing"
)

// Contract runs a module's contract suite in every topology: on the local
// implementation of a process started with env (directly, then strict:
// every call through the codec, LOCAL_CALLS=strict), and on the HTTP
// client of the module named name against that process's real handlers on
// loopback. It returns the direct process, for audits of its database.
func Contract[S any](t *testing.T, name string, env map[string]string, suite func(*testing.T, S)) *Process {
	t.Helper()
	var local S
	p := Start(t, env, &local)

	t.Run("in-process", func(t *testing.T) { suite(t, local) })
	t.Run("in-process strict", func(t *testing.T) {
		strictEnv := maps.Clone(env)
		if strictEnv == nil {
			strictEnv = map[string]string{}
		}
		strictEnv["LOCAL_CALLS"] = "strict"
		var strict S
		Start(t, strictEnv, &strict)
		suite(t, strict)
	})
	t.Run("http", func(t *testing.T) {
		var remote S
		Clients(t, map[string]string{name: p.URL}, &remote)
		suite(t, remote)
	})
	return p
}
