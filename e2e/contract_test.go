package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/platform/apidoc"
	"mitosis/platform/problem"
	platformtopology "mitosis/platform/topology"
	"mitosis/web"
)

// docURL names the OpenAPI document inside the schema compiler.
const docURL = "mem://openapi.json"

// apiContract checks answers against the OpenAPI document: the operation
// must document the status and media type, and the body must satisfy the
// schema. Built once, on first use.
var apiContract = sync.OnceValues(loadContract)

// contract is the document's response schemas by operation.
type contract struct {
	ops     []operation
	problem *jsonschema.Schema
}

// operation is one documented method and path, with the schema of each
// status and media type ("201 application/json").
type operation struct {
	method   string
	segments []string // "{id}" matches any one segment
	bodies   map[string]*jsonschema.Schema
}

// check validates one answer. A request no operation documents (an unknown
// route, an internal one, a method a path does not allow) must be answered
// with a problem.
func (c *contract) check(method, rawPath string, status int, mediaType string, body []byte) error {
	if method == "OPTIONS" || method == "HEAD" {
		return nil // CORS preflights and HEAD carry no body worth checking
	}
	op := c.find(method, rawPath)
	var schema *jsonschema.Schema
	if op == nil {
		if mediaType != problem.ContentType {
			return fmt.Errorf("%s %s is not in the document, yet answered %d %s", method, rawPath, status, mediaType)
		}
		schema = c.problem
	} else {
		var ok bool
		schema, ok = op.bodies[fmt.Sprintf("%d %s", status, mediaType)]
		if !ok {
			return fmt.Errorf("%s %s: the document does not list status %d with %q", method, rawPath, status, mediaType)
		}
	}
	if mediaType == "" && len(body) > 0 {
		return fmt.Errorf("%s %s answered %d with a body the document does not have", method, rawPath, status)
	}
	if schema == nil {
		return nil // no body, or a documented body without a JSON schema (the docs page)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s answered %d with a body that is not JSON: %w", method, rawPath, status, err)
	}
	if err := schema.Validate(inst); err != nil {
		return fmt.Errorf("%s %s answered %d with a body that breaks the document: %w\nbody: %s", method, rawPath, status, err, body)
	}
	return nil
}

func (c *contract) find(method, rawPath string) *operation {
	path, _, _ := strings.Cut(rawPath, "?")
	segs := strings.Split(path, "/")
	for i := range c.ops {
		op := &c.ops[i]
		if op.method == method && matches(op.segments, segs) {
			return op
		}
	}
	return nil
}

func matches(template, segs []string) bool {
	if len(template) != len(segs) {
		return false
	}
	for i, t := range template {
		if strings.HasPrefix(t, "{") && segs[i] != "" {
			continue
		}
		if t != segs[i] {
			return false
		}
	}
	return true
}

// loadContract compiles the schema of every documented response.
func loadContract() (*contract, error) {
	d, err := apidoc.Parse(web.OpenAPI, platformtopology.OpenAPI(modules.All())...)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]responseObject `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(d.JSON(), &doc); err != nil {
		return nil, err
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(d.JSON()))
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	if err := comp.AddResource(docURL, raw); err != nil {
		return nil, err
	}
	compile := func(ptr ...string) (*jsonschema.Schema, error) {
		for i, p := range ptr {
			ptr[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
		}
		return comp.Compile(docURL + "#/" + strings.Join(ptr, "/"))
	}

	c := &contract{}
	if c.problem, err = compile("components", "schemas", "Problem"); err != nil {
		return nil, err
	}
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			var op struct {
				Responses map[string]responseObject `json:"responses"`
			}
			if err := json.Unmarshal(rawOp, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			o := operation{method: strings.ToUpper(method), segments: strings.Split(path, "/"), bodies: map[string]*jsonschema.Schema{}}
			for status, resp := range op.Responses {
				at := []string{"paths", path, method, "responses", status}
				if ref, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
					resp, at = doc.Components.Responses[ref], []string{"components", "responses", ref}
				}
				if len(resp.Content) == 0 {
					o.bodies[status+" "] = nil // no body (204)
				}
				for media := range resp.Content {
					var schema *jsonschema.Schema
					if strings.HasSuffix(media, "json") {
						ptr := append(append([]string{}, at...), "content", media, "schema")
						if schema, err = compile(ptr...); err != nil {
							return nil, fmt.Errorf("%s %s %s: %w", method, path, status, err)
						}
					}
					o.bodies[status+" "+media] = schema
				}
			}
			c.ops = append(c.ops, o)
		}
	}
	return c, nil
}

// responseObject is an OpenAPI response object, or a reference to one.
type responseObject struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

// The check refuses what the document does not allow, so a passing
// end-to-end run means the answers match it.
func TestContractCheckCanFail(t *testing.T) {
	api, err := apiContract()
	require.NoError(t, err)
	user := `{"id":"0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","email":"a@example.com","name":"A","role":"customer","created_at":"2026-01-02T03:04:05Z"}`
	require.NoError(t, api.check("POST", "/api/v1/users", 201, "application/json", []byte(user)))
	require.NoError(t, api.check("GET", "/api/v1/orders/abc?x=1", 404, problem.ContentType,
		[]byte(`{"type":"about:blank","title":"Order not found","status":404,"code":"orders.not_found"}`)))
	require.NoError(t, api.check("POST", "/api/v1/auth/logout", 204, "", nil))
	require.NoError(t, api.check("GET", "/no/such/route", 404, problem.ContentType,
		[]byte(`{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`)))

	for name, c := range map[string]struct {
		method, path string
		status       int
		media, body  string
	}{
		"renamed field":         {"POST", "/api/v1/users", 201, "application/json", strings.Replace(user, `"name"`, `"full_name"`, 1)},
		"not a uuid":            {"POST", "/api/v1/users", 201, "application/json", strings.Replace(user, `0b9a3b8e-`, `x-`, 1)},
		"undocumented status":   {"POST", "/api/v1/users", 200, "application/json", user},
		"undocumented media":    {"POST", "/api/v1/users", 201, "text/plain", user},
		"problem without code":  {"GET", "/api/v1/orders/abc", 404, problem.ContentType, `{"type":"about:blank","title":"x","status":404}`},
		"unknown route as JSON": {"GET", "/no/such/route", 200, "application/json", `{}`},
		"not JSON":              {"GET", "/api/v1/products", 200, "application/json", `{"items": [`},
		"unknown role":          {"POST", "/api/v1/users", 201, "application/json", strings.Replace(user, `"customer"`, `"root"`, 1)},
		"body on a 204":         {"POST", "/api/v1/auth/logout", 204, "", `{}`},
	} {
		require.Error(t, api.check(c.method, c.path, c.status, c.media, []byte(c.body)), name)
	}
}
