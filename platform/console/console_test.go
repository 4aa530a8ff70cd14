package console_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"mitosis/platform/admin"
	"mitosis/platform/config"
	"mitosis/platform/console"
	"mitosis/platform/problem"
	"mitosis/platform/webui"
)

// Every process answers for itself; the console's route gathers a part
// from this process and every peer, and nothing else.
func TestGatherAsksEveryProcess(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	peer := admin.New(quiet)
	peer.Handle(http.MethodGet, admin.Prefix+"/placement", "", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"who": "peer"})
	})
	peerSrv := httptest.NewServer(peer)
	t.Cleanup(peerSrv.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	self := admin.New(quiet)
	self.Handle(http.MethodGet, admin.Prefix+"/placement", "", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"who": "self"})
	})
	selfSrv := httptest.NewServer(self)
	t.Cleanup(selfSrv.Close)
	bound := &admin.Bound{Addr: strings.TrimPrefix(selfSrv.URL, "http://")}
	cfg := config.Config{Env: config.Development, Admin: config.Admin{Peers: []string{peerSrv.URL, selfSrv.URL, downURL}}}
	pages, err := webui.Site{Pages: fstest.MapFS{"index.html": {}, "docs.html": {}, "console.html": {Data: []byte("console")}}}.Load()
	require.NoError(t, err)
	parts, err := console.NewParts("placement")
	require.NoError(t, err)
	console.New(cfg, bound, parts).Mount(self, pages, console.NewAccess(cfg, nil))

	res, err := http.Get(selfSrv.URL + admin.Prefix + "/system/placement")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var got struct{ Processes []console.Answer }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	require.Len(t, got.Processes, 3, "self once, the peer, the one down")
	require.True(t, got.Processes[0].Self)
	require.JSONEq(t, `{"who":"self"}`, string(got.Processes[0].Body))
	require.Equal(t, peerSrv.URL, got.Processes[1].Admin)
	require.JSONEq(t, `{"who":"peer"}`, string(got.Processes[1].Body))
	require.Equal(t, "unreachable", got.Processes[2].Error)

	for _, path := range []string{"/system/metrics", "/system/..%2fplacement"} {
		res, err := http.Get(selfSrv.URL + admin.Prefix + path)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusNotFound, res.StatusCode, path)
	}

	// A replay goes to a known process only, never to an address the
	// caller makes up.
	req, err := http.NewRequest(http.MethodPost, selfSrv.URL+admin.Prefix+"/system/replay?admin=http://169.254.169.254", strings.NewReader(`{"module":"users"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, string(body))
	require.Contains(t, string(body), `"field":"admin"`)

	res, err = http.Get(selfSrv.URL + "/console")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, webui.PageCSP, res.Header.Get("Content-Security-Policy"))
}

// consoleOf serves the console of one process with parts registered, the
// routes of routes (each answering its own name) and peers.
func consoleOf(t *testing.T, parts *console.Parts, peers []string, routes ...string) string {
	t.Helper()
	s := admin.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, r := range routes {
		s.Handle(http.MethodGet, admin.Prefix+"/"+r, "", func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]string{"part": r})
		})
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := config.Config{Env: config.Development, Admin: config.Admin{Peers: peers}}
	pages, err := webui.Site{Pages: fstest.MapFS{"index.html": {}, "docs.html": {}, "console.html": {}}}.Load()
	require.NoError(t, err)
	console.New(cfg, &admin.Bound{Addr: strings.TrimPrefix(srv.URL, "http://")}, parts).Mount(s, pages, console.NewAccess(cfg, nil))
	return srv.URL
}

// A part a module registers is gathered, from every process, also from a
// console whose own process does not serve it (the module runs in a peer);
// a route that exists but is not registered is refused as if it did not.
func TestGatherOnlyRegisteredParts(t *testing.T) {
	parts, err := console.NewParts("placement", "widgets")
	require.NoError(t, err)
	peer := consoleOf(t, parts, nil, "placement", "widgets", "gadgets")
	self := consoleOf(t, parts, []string{peer}, "placement", "gadgets")

	res, err := http.Get(self + admin.Prefix + "/system/widgets")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var got struct{ Processes []console.Answer }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	require.Len(t, got.Processes, 2)
	require.Equal(t, http.StatusNotFound, got.Processes[0].Status, "this process does not serve it")
	require.Equal(t, peer, got.Processes[1].Admin)
	require.JSONEq(t, `{"part":"widgets"}`, string(got.Processes[1].Body))

	for _, part := range []string{"gadgets", "nothing"} {
		res, err := http.Get(self + admin.Prefix + "/system/" + part)
		require.NoError(t, err)
		var d problem.Details
		require.NoError(t, json.NewDecoder(res.Body).Decode(&d))
		res.Body.Close()
		require.Equal(t, http.StatusNotFound, res.StatusCode, part)
		require.Equal(t, problem.ContentType, res.Header.Get("Content-Type"), part)
		require.Equal(t, problem.ErrNotFound.Code, d.Code, part)
	}
}

// A part is one path segment, registered once: a module cannot declare
// a path of its own choosing, nor take over a part already registered.
func TestPartsAreSegmentsRegisteredOnce(t *testing.T) {
	parts, err := console.NewParts("traces", "sagas", "dead-letters")
	require.NoError(t, err)
	require.Equal(t, []string{"dead-letters", "sagas", "traces"}, parts.Names())
	require.True(t, parts.Has("sagas"))
	require.False(t, parts.Has("saga"))
	for _, bad := range [][]string{{""}, {"events/replay"}, {"../metrics"}, {"Sagas"}, {"-x"}, {"sagas", "sagas"}} {
		_, err := console.NewParts(bad...)
		require.Error(t, err, "%q", bad)
	}
}
