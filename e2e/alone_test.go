package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/gateway"
	"mitosis/platform/health"
	"mitosis/platform/pgtest"
)

// TestEveryModuleAloneBehindGateway runs each module of the module list in
// a process of its own, every process told every other's address, behind
// a gateway-only process: nothing here names a module, so a new one is in
// this topology the day it joins the list. Each process gets ready, the
// gateway sees every module remote and healthy, and a request to each of a
// module's public routes through the gateway reaches that module's process
// (its access log holds the request's id) and is answered by it.
func TestEveryModuleAloneBehindGateway(t *testing.T) {
	t.Parallel()
	shared := pgtest.NewDatabase(t)
	addrs, urls := map[string]string{}, map[string]string{}
	var alone []string
	for _, s := range modules.All() {
		if s.Name == gateway.Name {
			continue
		}
		alone = append(alone, s.Name)
		addrs[s.Name] = freeAddr(t)
		urls[strings.ToUpper(s.Name)+"_URL"] = "http://" + addrs[s.Name]
	}
	procs := map[string]*appProcess{}
	for _, s := range modules.All() {
		if s.Name == gateway.Name {
			continue
		}
		// startApp gives a module isolated by default a database of its own.
		procs[s.Name] = startApp(t, s.Name+" alone", with(urls, map[string]string{"SERVICES": s.Name, "HTTP_ADDR": addrs[s.Name],
			"DATABASE_URL": shared, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}))
	}
	for _, name := range alone {
		procs[name].waitReady(t)
	}
	g := startApp(t, "gateway", with(urls, map[string]string{"SERVICES": gateway.Name, "SERVICE_SECRET": serviceSecret}))
	g.waitReady(t)

	require.Eventually(t, func() bool {
		resp, err := http.Get(g.url + "/api/v1/services")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var list gateway.ServiceList
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
			return false
		}
		remote := 0
		for _, item := range list.Items {
			if item.Name != gateway.Name && item.Where == gateway.WhereRemote && item.Health == health.Healthy {
				remote++
			}
		}
		return remote == len(alone)
	}, 30*time.Second, 100*time.Millisecond, "every module remote and healthy, as the gateway sees them")

	for _, s := range modules.All() {
		if s.Name == gateway.Name {
			continue
		}
		for _, route := range s.Routes {
			t.Run(s.Name+" "+route, func(t *testing.T) {
				id := "alone-" + uuid.NewString()
				path := strings.ReplaceAll(route, ":", "x-") // a ":name" segment matches anything
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.url+path, nil)
				require.NoError(t, err)
				req.Header.Set("X-Request-ID", id)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				r := readResponse(t, resp)
				assert.NotContains(t, []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}, r.status,
					"the gateway reached %s: %s", s.Name, r.body)
				assert.Less(t, r.status, 500, "%s answered without failing: %s", s.Name, r.body)
				require.Eventually(t, func() bool { return strings.Contains(procs[s.Name].output.String(), id) },
					5*time.Second, 20*time.Millisecond, "%s's own process logged the request", s.Name)
			})
		}
	}
}

// readResponse reads and closes an answer sent around the contract check.
func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}
