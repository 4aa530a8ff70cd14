package webui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"mitosis/platform/webui"
)

func site() webui.Site {
	return webui.Site{Pages: fstest.MapFS{
		"index.html":        {Data: []byte(`<meta name="console-url" content="__CONSOLE_URL__"><p>shop</p>`)},
		"console.html":      {Data: []byte("<p>console</p>")},
		"docs.html":         {Data: []byte(`<script nonce="__CSP_NONCE__" src="/assets/r.js"></script>`)},
		"assets/app.js":     {Data: []byte("console.log(1)")},
		"assets/style.css":  {Data: []byte("p{}")},
		"assets/.hidden.js": {Data: []byte("x")},
	}}
}

func get(t *testing.T, e *echo.Echo, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestPagesAndAssets(t *testing.T) {
	f, err := site().Load()
	require.NoError(t, err)
	e := echo.New()
	f.MountPublic(e, true, `https://ops.example.com"<`)

	rec := get(t, e, "/")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, webui.PageCSP, rec.Header().Get("Content-Security-Policy"))
	require.Contains(t, rec.Body.String(), "shop")
	require.Contains(t, rec.Body.String(), `content="https://ops.example.com&#34;&lt;"`, "the console's address, escaped")
	require.Equal(t, http.StatusNotModified, get(t, e, "/", "If-None-Match", rec.Header().Get("ETag")).Code)

	rec = get(t, e, "/assets/app.js")
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript"), rec.Header().Get("Content-Type"))
	etag := rec.Header().Get("ETag")
	require.NotEmpty(t, etag)
	require.Equal(t, http.StatusNotModified, get(t, e, "/assets/app.js", "If-None-Match", etag).Code)
	require.True(t, strings.HasPrefix(get(t, e, "/assets/style.css").Header().Get("Content-Type"), "text/css"))

	for _, missing := range []string{"/assets/nope.js", "/assets/.hidden.js", "/assets/..%2findex.html", "/assets/"} {
		require.Equal(t, http.StatusNotFound, get(t, e, missing).Code, missing)
	}
}

// The docs page gets a fresh nonce per answer, allowed for styles only.
func TestDocsNonce(t *testing.T) {
	f, err := site().Load()
	require.NoError(t, err)
	e := echo.New()
	f.MountPublic(e, false, "")
	require.Equal(t, http.StatusNotFound, get(t, e, "/").Code, "no storefront where nothing fronts the API")

	seen := map[string]bool{}
	for range 3 {
		rec := get(t, e, "/docs")
		require.Equal(t, http.StatusOK, rec.Code)
		csp := rec.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self';")
		require.NotContains(t, csp, "unsafe")
		require.NotContains(t, rec.Body.String(), "__CSP_NONCE__")
		start := strings.Index(csp, "'nonce-")
		require.Positive(t, start, csp)
		nonce := csp[start+len("'nonce-") : start+strings.Index(csp[start+1:], "'")+1]
		require.Contains(t, rec.Body.String(), `nonce="`+nonce+`"`)
		require.False(t, seen[nonce], "nonce reused")
		seen[nonce] = true
	}
}

func TestMissingPage(t *testing.T) {
	_, err := webui.Site{Pages: fstest.MapFS{"index.html": {Data: []byte("x")}}}.Load()
	require.ErrorContains(t, err, "docs.html")
}
