package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/modulestest"
	"mitosis/platform/apidoc"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
	"mitosis/web"
)

// methods are the operations an OpenAPI path item may hold.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// The document lists exactly the routes a process with every module serves,
// apart from the internal routes between modules.
func TestDocumentMatchesRoutes(t *testing.T) {
	var e *echo.Echo
	p := modulestest.Start(t, nil, &e)

	served := map[string]bool{}
	param := regexp.MustCompile(`:([^/]+)`)
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Path, "/internal/") {
			continue
		}
		served[strings.ToLower(r.Method)+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}

	doc := document(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for _, m := range methods {
			if _, ok := item[m]; ok {
				documented[m+" "+path] = true
			}
		}
	}
	assert.Equal(t, sortedKeys(served), sortedKeys(documented), "served routes (left) and documented operations (right) differ")
	require.NotEmpty(t, served)

	resp, err := http.Get(p.URL + "/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	want, err := apidoc.Parse(web.OpenAPI, topology.OpenAPI(modules.All())...)
	require.NoError(t, err)
	require.JSONEq(t, string(want.JSON()), string(got))
}

// The docs page is served and renders the served document.
func TestDocsPage(t *testing.T) {
	p := modulestest.Start(t, nil)
	resp, err := http.Get(p.URL + "/docs")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "connect-src 'self'")
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(page), `spec-url="openapi.json"`)
}

// Every operation has an id, and every operationId is unique.
func TestOperationIDsAreUnique(t *testing.T) {
	seen := map[string]string{}
	for path, item := range document(t).Paths {
		for _, m := range methods {
			op, ok := item[m]
			if !ok {
				continue
			}
			require.NotEmpty(t, op.OperationID, "%s %s", m, path)
			require.Empty(t, seen[op.OperationID], "operationId %s of %s %s", op.OperationID, m, path)
			seen[op.OperationID] = m + " " + path
		}
	}
}

type operation struct {
	OperationID string `json:"operationId"`
}

type openAPI struct {
	Paths map[string]map[string]operation `json:"paths"`
}

func document(t *testing.T) openAPI {
	t.Helper()
	d, err := apidoc.Parse(web.OpenAPI, topology.OpenAPI(modules.All())...)
	require.NoError(t, err)
	var doc openAPI
	require.NoError(t, json.Unmarshal(d.JSON(), &doc))
	return doc
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The Problem schema lists exactly the members of problem.Details.
func TestProblemSchemaMatchesDetails(t *testing.T) {
	d, err := apidoc.Parse(web.OpenAPI, topology.OpenAPI(modules.All())...)
	require.NoError(t, err)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(d.JSON(), &doc))
	documented := map[string]bool{}
	for name := range doc.Components.Schemas["Problem"].Properties {
		documented[name] = true
	}
	sent := map[string]bool{}
	for f := range reflect.TypeFor[problem.Details]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		sent[name] = true
	}
	assert.Equal(t, sortedKeys(sent), sortedKeys(documented), "problem.Details (left) and the Problem schema (right) differ")
}
