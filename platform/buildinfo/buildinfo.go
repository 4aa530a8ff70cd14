// Package buildinfo says which build of the binary is running: its version,
// commit and build time, for `app version`, /health and metrics.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile and the Dockerfile:
//
//	-ldflags "-X mitosis/platform/buildinfo.version=v1.2.3
//	          -X mitosis/platform/buildinfo.commit=<sha>
//	          -X mitosis/platform/buildinfo.buildTime=<RFC 3339>"
//
// Empty ones fall back to what the Go toolchain stamped (module version,
// vcs.revision, vcs.time).
var version, commit, buildTime string

// Unknown stands for a value neither the linker nor the toolchain provided.
const Unknown = "unknown"

// Info describes the running build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildTime string `json:"build_time"`
	GoVersion string `json:"go_version"`
}

// Read returns the build's information: the link-time values where given,
// else the toolchain's stamp, else "dev" (version) and "unknown".
func Read() Info {
	info := Info{Version: "dev", Commit: Unknown, BuildTime: Unknown, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fromToolchain(&info, bi)
	}
	for dst, v := range map[*string]string{&info.Version: version, &info.Commit: commit, &info.BuildTime: buildTime} {
		if v != "" {
			*dst = v
		}
	}
	return info
}

func fromToolchain(info *Info, bi *debug.BuildInfo) {
	// "(devel)" is a build outside a tagged module with no VCS stamp.
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		info.Version = v
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.BuildTime = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Commit != Unknown {
		info.Commit += "-dirty"
	}
}

// String is the one line `app version` prints.
func (i Info) String() string {
	return fmt.Sprintf("mitosis %s (commit %s, built %s, %s)", i.Version, i.Commit, i.BuildTime, i.GoVersion)
}
