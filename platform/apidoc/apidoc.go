// Package apidoc serves the OpenAPI document of the public API as JSON at
// /openapi.json; /docs renders it (platform/webui). The document itself is
// the binary's: a base (package web) and each module's part beside the
// module; platform only merges and serves it.
package apidoc

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

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

// Mount serves /openapi.json.
func (d *Document) Mount(e *echo.Echo) {
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.json)
	})
}
