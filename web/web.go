// Package web holds what the binary serves besides the API itself: the
// OpenAPI document of the public API (linted by make lint-api), and the
// pages (storefront, /docs, console) built from src/ and pages/ into dist/
// by `make web` (node build.mjs). dist/ is committed, so `go build` needs no
// Node; dist_test.go fails when it is stale.
package web

import (
	"embed"
	"io/fs"

	"mitosis/platform/webui"
)

// OpenAPI is the OpenAPI 3.1 document of every public route, in YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte

//go:embed dist
var dist embed.FS

// Site is the document and the pages, as the processes serve them.
func Site() webui.Site {
	pages, err := fs.Sub(dist, "dist")
	if err != nil { // only for an invalid path, and "dist" is valid
		panic(err)
	}
	return webui.Site{OpenAPI: OpenAPI, Pages: pages}
}
