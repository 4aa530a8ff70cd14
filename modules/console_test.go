package modules_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/platform/admin"
	"mitosis/platform/console"
	"mitosis/platform/problem"
)

// gathered is the console's answer to /admin/v1/system/<part>.
type gathered struct {
	Processes []struct {
		Admin  string          `json:"admin"`
		Self   bool            `json:"self"`
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	} `json:"processes"`
}

func getJSON(t *testing.T, url string, status int, out any) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, status, res.StatusCode, url)
	require.NoError(t, json.NewDecoder(res.Body).Decode(out), url)
	return res
}

// The console's registry holds the platform's parts and those the modules
// declare (orders' sagas): every one is an admin route of a process that
// runs every module, and is gathered; a route that is not registered is
// refused. A process without orders (the gateway alone, with the first as
// its ADMIN_PEERS) still gathers the sagas, from the peer that runs it.
func TestConsoleGathersTheRegisteredParts(t *testing.T) {
	var parts *console.Parts
	all := modulestest.Start(t, nil, &parts)
	require.Contains(t, parts.Names(), "sagas", "declared by orders")

	var index struct{ Routes []admin.Route }
	getJSON(t, all.Admin+admin.Prefix, http.StatusOK, &index)
	routes := map[string]bool{}
	for _, r := range index.Routes {
		routes[r.Method+" "+r.Path] = true
	}
	for _, part := range parts.Names() {
		require.True(t, routes["GET "+admin.Prefix+"/"+part], "the part %s is a route of the process that runs every module", part)
		var g gathered
		getJSON(t, all.Admin+admin.Prefix+"/system/"+part, http.StatusOK, &g)
		require.Len(t, g.Processes, 1, part)
		assert.True(t, g.Processes[0].Self, part)
		assert.Equal(t, http.StatusOK, g.Processes[0].Status, "%s: %s", part, g.Processes[0].Body)
	}
	for _, route := range []string{"routes", "advise", "nothing"} { // routes or not, not registered
		var d problem.Details
		res := getJSON(t, all.Admin+admin.Prefix+"/system/"+route, http.StatusNotFound, &d)
		assert.Equal(t, problem.ContentType, res.Header.Get("Content-Type"), route)
		assert.Equal(t, problem.ErrNotFound.Code, d.Code, route)
	}

	edge := modulestest.Start(t, map[string]string{"SERVICES": "gateway", "ADMIN_PEERS": all.Admin, "DATABASE_URL": all.DB,
		"USERS_URL": all.URL, "ORDERS_URL": all.URL, "PAYMENTS_URL": all.URL, "INVENTORY_URL": all.URL})
	var g gathered
	getJSON(t, edge.Admin+admin.Prefix+"/system/sagas", http.StatusOK, &g)
	require.Len(t, g.Processes, 2)
	assert.True(t, g.Processes[0].Self)
	assert.Equal(t, http.StatusNotFound, g.Processes[0].Status, "the gateway does not run orders")
	assert.Equal(t, all.Admin, g.Processes[1].Admin)
	require.Equal(t, http.StatusOK, g.Processes[1].Status)
	var sagas struct{ Module string }
	require.NoError(t, json.Unmarshal(g.Processes[1].Body, &sagas))
	assert.Equal(t, "orders", sagas.Module)
}
