package process

import "runtime/debug"

// build is the running binary's version and commit, as the Go toolchain
// stamped them. It is the one place that reads them, for /health and
// mitosis_build_info: once platform/buildinfo (app version) is on main,
// this returns buildinfo.Read()'s Version and Commit instead.
func build() (version, commit string) {
	version, commit = "dev", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return version, commit
}
