package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
)

// topology says which process serves each module's public routes. In one
// process all three URLs are the same.
type topology struct {
	users, payments, orders string
	// inventory serves /api/v1/inventory; "" sends it to orders' process.
	inventory string
	// gateway is where the modules run as the gateway sees them (local or
	// remote), or "" when no process runs a gateway.
	gateway string
	// processes are the /health answers to expect, one per process.
	processes []healthWant
	// serviceAuth is the SERVICE_AUTH of the processes ("" = the default).
	serviceAuth string
}

// healthWant is what one process's /health should list, all up.
type healthWant struct {
	url   string
	admin string // its admin listener
	// checks are the names of each local module's checks: its own parts,
	// then the remote modules it calls.
	checks map[string][]string
	// gateway marks a process the gateway runs in: its /internal/ routes
	// answer 404 to callers without service credentials, as if absent.
	gateway bool
}

// baseFor routes a public path to the process that serves it; anything else
// goes to the orders process, the one a client would call first.
func (tp topology) baseFor(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/v1/users"), strings.HasPrefix(path, "/api/v1/auth"):
		return tp.users
	case strings.HasPrefix(path, "/api/v1/wallet"), strings.HasPrefix(path, "/api/v1/payments"):
		return tp.payments
	case strings.HasPrefix(path, "/api/v1/inventory") && tp.inventory != "":
		return tp.inventory
	}
	return tp.orders
}

// request is one HTTP call; body is encoded as JSON unless it is a string,
// which is sent as is.
type request struct {
	method, path string
	token        string
	body         any
	header       map[string]string
	// headers are added after everything else, to repeat a header.
	headers http.Header
	// base overrides the routing by path, to ask one process directly.
	base string
}

// response is a finished HTTP exchange.
type response struct {
	req    request
	status int
	header http.Header
	body   []byte
}

// do sends req to the process serving its path, and checks the answer
// against the OpenAPI document.
func (tp topology) do(t *testing.T, req request) response {
	t.Helper()
	var body io.Reader
	switch b := req.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		body = bytes.NewReader(raw)
	}
	base := req.base
	if base == "" {
		base = tp.baseFor(req.path)
	}
	hr, err := http.NewRequestWithContext(t.Context(), req.method, base+req.path, body)
	require.NoError(t, err)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	for k, vs := range req.headers {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	resp, err := httpClient.Do(hr)
	require.NoError(t, err, "%s %s", req.method, req.path)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{req: req, status: resp.StatusCode, header: resp.Header, body: raw}
	// Every answer, of every process and status, names its trace, once.
	require.Len(t, resp.Header.Values(telemetry.TraceIDHeader), 1, "%s %s: x-trace-id", req.method, req.path)
	require.Regexp(t, `^[0-9a-f]{32}$`, resp.Header.Get(telemetry.TraceIDHeader))
	require.Len(t, resp.Header.Values(telemetry.ServiceHeader), 1, "%s %s: x-trace-service", req.method, req.path)
	require.Len(t, resp.Header.Values(telemetry.DepthHeader), 1, "%s %s: x-trace-depth", req.method, req.path)
	api, err := apiContract()
	require.NoError(t, err, "OpenAPI document")
	require.NoError(t, api.check(req.method, req.path, out.status, mediaType(out), raw))
	return out
}

// get and post are shorthands for do.
func (tp topology) get(t *testing.T, path, token string) response {
	t.Helper()
	return tp.do(t, request{method: http.MethodGet, path: path, token: token})
}

func (tp topology) post(t *testing.T, path, token string, body any) response {
	t.Helper()
	return tp.do(t, request{method: http.MethodPost, path: path, token: token, body: body})
}

// decode requires status and decodes the JSON body into a new T.
func decode[T any](t *testing.T, r response, status int) T {
	t.Helper()
	require.Equal(t, status, r.status, "%s %s answered %s", r.req.method, r.req.path, r.body)
	var out T
	require.NoError(t, json.Unmarshal(r.body, &out), "%s %s answered %s", r.req.method, r.req.path, r.body)
	return out
}

// requireKeys checks the JSON object's member names, so a renamed field
// fails even though the contract types would decode it silently.
func requireKeys(t *testing.T, r response, keys ...string) {
	t.Helper()
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &obj), "%s", r.body)
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	require.ElementsMatch(t, keys, got, "members of %s", r.body)
}

// requireProblem checks an RFC 9457 answer: media type, status, code, and
// that the named fields are among errors[].field.
func requireProblem(t *testing.T, r response, status int, code string, fields ...string) problem.Details {
	t.Helper()
	require.Equal(t, status, r.status, "%s %s answered %s", r.req.method, r.req.path, r.body)
	require.Equal(t, problem.ContentType, mediaType(r), "%s %s answered %s", r.req.method, r.req.path, r.body)
	var d problem.Details
	require.NoError(t, json.Unmarshal(r.body, &d), "%s", r.body)
	require.Equal(t, status, d.Status, "%s", r.body)
	require.Equal(t, code, d.Code, "%s", r.body)
	var named []string
	for _, f := range d.Errors {
		named = append(named, f.Field)
	}
	require.Subset(t, named, fields, "errors[].field of %s", r.body)
	return d
}

func mediaType(r response) string {
	mt, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}
