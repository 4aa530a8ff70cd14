// Package apidoc serves the OpenAPI document of the public API: as JSON at
// /openapi.json, and rendered for people at /docs. The document itself is
// the binary's: a base (package web) and each module's part beside the
// module; platform only merges and serves it.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// docsCSP lets the docs page load its renderer (Redoc, from a CDN) and the
// document; every other route keeps the strict policy of httpserver.
const docsCSP = "default-src 'none'; script-src https://cdn.jsdelivr.net; " +
	"style-src 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; " +
	"img-src 'self' data: https://cdn.redoc.ly; connect-src 'self'; worker-src blob:; frame-ancestors 'none'"

//go:embed docs.html
var docsPage []byte

// Document is an OpenAPI document ready to serve.
type Document struct {
	json []byte
}

// Parse reads a YAML (or JSON) OpenAPI document, with the modules' parts
// (fragments: tags, paths and components) merged in.
func Parse(raw []byte, fragments ...[]byte) (*Document, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	if _, ok := doc["openapi"].(string); !ok {
		return nil, fmt.Errorf("openapi document: no openapi version")
	}
	if err := merge(doc, fragments...); err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi document as JSON (are all keys strings?): %w", err)
	}
	return &Document{json: out}, nil
}

// JSON returns the document as served at /openapi.json.
func (d *Document) JSON() []byte { return d.json }

// Mount serves /openapi.json and /docs.
func (d *Document) Mount(e *echo.Echo) {
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.json)
	})
	e.GET("/docs", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentSecurityPolicy, docsCSP)
		return c.HTMLBlob(http.StatusOK, docsPage)
	})
}
