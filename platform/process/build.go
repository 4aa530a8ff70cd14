package process

import "mitosis/platform/buildinfo"

// build is the running binary's version and commit (ldflags or the Go
// toolchain's stamp), for /health and mitosis_build_info.
func build() (version, commit string) {
	info := buildinfo.Read()
	return info.Version, info.Commit
}
