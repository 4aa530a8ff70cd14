// Package webui serves the pages of the binary to browsers: the storefront
// at / where a process fronts the public API, /docs on every public port,
// and the console at /console on the admin listener. The pages and their
// assets are the binary's (package web, built from web/ and embedded);
// platform only serves them, under a strict Content-Security-Policy:
// scripts, styles and everything else from the page's own origin only,
// nothing inline.
package webui

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// PageCSP is the policy of every page: nothing from another origin, no
// inline script or style, no eval, no framing, no plugins.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// nonceMark in a page is replaced by a fresh nonce per answer, which the
// page's policy then allows for styles (nonceCSP).
const nonceMark = "__CSP_NONCE__"

// nonceCSP is PageCSP for a page whose renderer (Redoc, through
// styled-components) creates style elements: those carrying the answer's
// nonce may apply; scripts stay self-only, and nothing else inline runs.
func nonceCSP(nonce string) string {
	return strings.Replace(PageCSP, "style-src 'self';", "style-src 'self' 'nonce-"+nonce+"';", 1)
}

// Site is what the binary serves to browsers.
type Site struct {
	// OpenAPI is the document of the public API (YAML or JSON).
	OpenAPI []byte
	// Pages holds index.html, docs.html, console.html and assets/.
	Pages fs.FS
}

// Files are a site's pages and assets, read once, with their ETags.
type Files struct {
	files map[string]file
}

type file struct {
	body []byte
	mime string
	etag string
}

// Load reads every page and asset of s.
func (s Site) Load() (*Files, error) {
	if s.Pages == nil {
		return nil, fmt.Errorf("web pages: none embedded")
	}
	out := &Files{files: map[string]file{}}
	err := fs.WalkDir(s.Pages, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(s.Pages, p)
		if err != nil {
			return err
		}
		typ := mime.TypeByExtension(path.Ext(p))
		if typ == "" {
			typ = "application/octet-stream"
		}
		out.files[p] = file{body: body, mime: typ, etag: etagOf(body)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	for _, need := range []string{"index.html", "docs.html", "console.html"} {
		if _, ok := out.files[need]; !ok {
			return nil, fmt.Errorf("web pages: %s is missing (run make web)", need)
		}
	}
	return out, nil
}

// Page answers with the page name (index.html, ...) under PageCSP.
func (f *Files) Page(name string) echo.HandlerFunc {
	return func(c echo.Context) error { return f.serve(c, name) }
}

// Asset answers GET <prefix>/:file with that file of assets/, or 404.
func (f *Files) Asset(c echo.Context) error {
	name := c.Param("file")
	if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		return echo.ErrNotFound
	}
	return f.serve(c, "assets/"+name)
}

func (f *Files) serve(c echo.Context, name string) error {
	fl, ok := f.files[name]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if bytes.Contains(fl.body, []byte(nonceMark)) {
		var raw [18]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return err
		}
		nonce := base64.RawURLEncoding.EncodeToString(raw[:])
		h.Set(echo.HeaderContentSecurityPolicy, nonceCSP(nonce))
		h.Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, fl.mime, bytes.ReplaceAll(fl.body, []byte(nonceMark), []byte(nonce)))
	}
	h.Set(echo.HeaderContentSecurityPolicy, PageCSP)
	// Revalidated on every load: a new binary's assets are seen at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", fl.etag)
	if match := c.Request().Header.Get("If-None-Match"); match == fl.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, fl.mime, fl.body)
}

// consoleMark in a page is replaced by the console's public address
// (HTML-escaped), or by nothing when the public side may not know it.
const consoleMark = "__CONSOLE_URL__"

// MountPublic serves /docs and /assets/:file on the public port, and the
// storefront at / when storefront (the process fronts the public API).
// consoleURL is the console's address the storefront may link to (its
// trace view), empty for none.
func (f *Files) MountPublic(e *echo.Echo, storefront bool, consoleURL string) {
	e.GET("/docs", f.Page("docs.html"))
	e.GET("/assets/:file", f.Asset)
	if storefront {
		f.fill("index.html", consoleMark, html.EscapeString(consoleURL))
		e.GET("/", f.Page("index.html"))
	}
}

// fill replaces mark in page name with value, once, at mount.
func (f *Files) fill(name, mark, value string) {
	fl, ok := f.files[name]
	if !ok {
		return
	}
	fl.body = bytes.ReplaceAll(fl.body, []byte(mark), []byte(value))
	fl.etag = etagOf(fl.body)
	f.files[name] = fl
}

// etagOf is the strong ETag of body: part of its SHA-256.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}
