// Package web holds what the binary serves besides the API itself: the
// OpenAPI document of the public API (linted by make lint-api).
package web

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of every public route, in YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
