// Package configs embeds the default configuration, so the binary runs the
// same from any directory.
package configs

import _ "embed"

// Default is configs/default.yaml.
//
//go:embed default.yaml
var Default []byte

// Development is configs/development.yaml: what development changes in the
// defaults.
//
//go:embed development.yaml
var Development []byte
