package advise_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/advise"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// oneProcess is the records of a process running every module, where each
// order placed called users.Get once and payments.Charge once, and each
// deposit nothing.
func oneProcess() advise.Process {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	order := contract.RequestSample{Seconds: .004, Depth: 1, Calls: []contract.EdgeCalls{
		{Caller: "orders", Callee: "payments", Method: "Charge", N: 1},
		{Caller: "orders", Callee: "users", Method: "Get", N: 1},
	}}
	return advise.Process{
		Admin: "http://admin", Services: []string{"users", "orders", "payments"}, Modules: []string{"users", "orders", "payments"},
		Edges: []contract.EdgeCount{
			{Caller: "orders", Callee: "payments", Method: "Charge", Transport: "local", Calls: 100,
				Sample: contract.Sample{Sized: 10, RequestBytes: 1000, ResponseBytes: 3000}},
			{Caller: "orders", Callee: "users", Method: "Get", Transport: "local", Calls: 100,
				Sample: contract.Sample{Sized: 10, RequestBytes: 500, ResponseBytes: 1500}},
		},
		Routes: []contract.RouteRecord{
			{Method: "POST", Route: "/api/v1/orders", Requests: 100, Recorded: 10, FirstAt: start, LastAt: start.Add(10 * time.Second),
				MaxDepth: 1, Recent: []contract.RequestSample{order, order, order, order}},
			{Method: "POST", Route: "/api/v1/wallet/deposits", Requests: 20, Recorded: 2, FirstAt: start, LastAt: start.Add(10 * time.Second),
				Recent: []contract.RequestSample{{Seconds: .002}, {Seconds: .002}}},
		},
	}
}

func find(t *testing.T, r advise.Report, name string) advise.Prediction {
	t.Helper()
	for _, c := range r.Candidates {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no candidate", "%q in %+v", name, r.Candidates)
	return advise.Prediction{}
}

func route(t *testing.T, p advise.Prediction, path string) advise.RoutePrediction {
	t.Helper()
	for _, r := range p.Routes {
		if r.Route == path {
			return r
		}
	}
	require.Failf(t, "no route", "%q", path)
	return advise.RoutePrediction{}
}

// Each placement adds one hop per call it sends over the network, per
// request, at the recorded rate; the one in use adds nothing.
func TestAdvisePredictsTheHopsEachPlacementAdds(t *testing.T) {
	hop := advise.FixedHop{Latency: 200 * time.Microsecond, CPU: 50 * time.Microsecond}
	sys := advise.Merge([]advise.Process{oneProcess()})
	sys.Cores = 0 // the hops alone; the CPU load they add is TestAdviseAddsTheWaitOfTheHopsCPUForTheRequestsOverlapped's
	r, err := advise.Advise(context.Background(), sys, hop, []string{"payments", "users"})
	require.NoError(t, err)

	inUse := find(t, r, "in use")
	assert.Equal(t, [][]string{{"orders", "payments", "users"}}, inUse.Groups)
	assert.Zero(t, route(t, inUse, "/api/v1/orders").AddedP50)
	assert.Empty(t, inUse.Expensive)

	alone := find(t, r, "payments alone")
	assert.Equal(t, [][]string{{"orders", "users"}, {"payments"}}, alone.Groups)
	orders := route(t, alone, "/api/v1/orders")
	assert.InDelta(t, 200e-6, orders.AddedP50, 1e-9)
	assert.InDelta(t, 200e-6, orders.AddedP99, 1e-9)
	assert.InDelta(t, 10, orders.Rate, 1e-9, "100 requests in 10s")
	assert.InDelta(t, 2, orders.FanOut, 1e-9)
	assert.InDelta(t, 1, orders.CrossingCalls, 1e-9)
	assert.InDelta(t, 400, orders.CrossingBytes, 1e-9, "100 B in and 300 B out a call")
	assert.Zero(t, route(t, alone, "/api/v1/wallet/deposits").AddedP50, "deposits call no other module")
	assert.InDelta(t, 10*50e-6, alone.CPUSecondsPerSecond, 1e-12)
	assert.InDelta(t, 10, alone.CallsPerSecond, 1e-9)
	assert.InDelta(t, 4000, alone.BytesPerSecond, 1e-9)
	require.Len(t, alone.Expensive, 1)
	assert.Equal(t, advise.Edge{Caller: "orders", Callee: "payments", Method: "Charge"}, alone.Expensive[0].Edge)

	apart := find(t, r, "every module alone")
	assert.InDelta(t, 400e-6, route(t, apart, "/api/v1/orders").AddedP50, 1e-9)

	// payments and users apart: orders goes with one of them, one hop.
	sep := find(t, r, "least added latency separating payments, users")
	assert.InDelta(t, 200e-6, route(t, sep, "/api/v1/orders").AddedP50, 1e-9)
	assert.Len(t, sep.Groups, 2)

	_, err = advise.Advise(context.Background(), sys, hop, []string{"payments", "nobody"})
	require.ErrorContains(t, err, `no module "nobody"`)
}

// The CPU the added hops cost delays the requests that run beside them:
// each request waits for the added CPU of every request it overlapped
// (the added CPU per request over the cores, stretched by 1/(1−load)),
// and a request alone waits for none.
func TestAdviseAddsTheWaitOfTheHopsCPUForTheRequestsOverlapped(t *testing.T) {
	hop := advise.FixedHop{Latency: 200 * time.Microsecond, CPU: 5 * time.Millisecond}
	proc := oneProcess()
	for i := range proc.Routes {
		for j := range proc.Routes[i].Recent {
			proc.Routes[i].Recent[j].Overlap = uint32(i + 1) // orders overlap 1, deposits 2
		}
	}
	sys := advise.Merge([]advise.Process{proc})
	sys.Cores = 1
	r, err := advise.Advise(context.Background(), sys, hop, nil)
	require.NoError(t, err)

	alone := find(t, r, "payments alone")
	load := 10 * 5e-3 // 10 orders a second, one crossing call each
	assert.InDelta(t, load, alone.AddedCPULoad, 1e-12)
	perRequest := 10 * 5e-3 / 12 // over 10 orders and 2 deposits a second
	wait := perRequest / (1 - load)
	assert.InDelta(t, wait, alone.WaitPerOverlap, 1e-12)
	assert.InDelta(t, 200e-6+wait, route(t, alone, "/api/v1/orders").AddedP50, 1e-9)
	assert.InDelta(t, 2*wait, route(t, alone, "/api/v1/wallet/deposits").AddedP50, 1e-9, "deposits wait for the orders' hops too")
	assert.Zero(t, find(t, r, "in use").AddedCPULoad)

	sys.Cores = 2
	r, err = advise.Advise(context.Background(), sys, hop, nil)
	require.NoError(t, err)
	alone = find(t, r, "payments alone")
	assert.InDelta(t, load/2, alone.AddedCPULoad, 1e-12, "a share of two cores")
	assert.InDelta(t, perRequest/2/(1-load/2), alone.WaitPerOverlap, 1e-12)

	// One request at a time: nobody waits for another's hops.
	sys = advise.Merge([]advise.Process{oneProcess()})
	sys.Cores = 1
	r, err = advise.Advise(context.Background(), sys, hop, nil)
	require.NoError(t, err)
	assert.InDelta(t, 200e-6, route(t, find(t, r, "payments alone"), "/api/v1/orders").AddedP50, 1e-9)
	assert.Zero(t, route(t, find(t, r, "payments alone"), "/api/v1/wallet/deposits").AddedP50)
}

// A system read from several processes: what a call sets off in its
// callee's process counts for the public route that made the call, and
// edges already over the network are not added again.
func TestAdviseFoldsInTheCallsOfCalleeProcesses(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	orders := advise.Process{Services: []string{"orders"}, Modules: []string{"orders", "payments", "users"},
		Routes: []contract.RouteRecord{{Method: "POST", Route: "/api/v1/orders", Requests: 10, Recorded: 10,
			FirstAt: start, LastAt: start.Add(5 * time.Second),
			Recent: []contract.RequestSample{{Calls: []contract.EdgeCalls{{Caller: "orders", Callee: "payments", Method: "Charge", N: 1}}}}}}}
	pay := advise.Process{Services: []string{"payments", "users"}, Modules: []string{"orders", "payments", "users"},
		Routes: []contract.RouteRecord{{Method: "POST", Route: contract.MethodPath("payments", "Charge"), Requests: 10, Recorded: 10,
			Edges: []contract.RouteEdge{{Caller: "payments", Callee: "users", Method: "Get", Calls: 20}}}}}
	sys := advise.Merge([]advise.Process{orders, pay})
	require.Len(t, sys.Routes, 1, "internal routes are not public routes")
	assert.Equal(t, map[advise.Edge]float64{
		{Caller: "orders", Callee: "payments", Method: "Charge"}: 1,
		{Caller: "payments", Callee: "users", Method: "Get"}:     2,
	}, sys.Routes[0].Samples[0].Calls)

	r, err := advise.Advise(context.Background(), sys, advise.FixedHop{Latency: time.Millisecond}, nil)
	require.NoError(t, err)
	assert.Zero(t, route(t, find(t, r, "in use"), "/api/v1/orders").AddedP50)
	assert.InDelta(t, -1e-3, route(t, find(t, r, "one process"), "/api/v1/orders").AddedP50, 1e-9, "one hop saved")
	assert.InDelta(t, 2e-3, route(t, find(t, r, "every module alone"), "/api/v1/orders").AddedP50, 1e-9, "two calls to users added")
}

// The probe times real round trips through the transport and the server.
func TestProbeTimesRoundTripsOverLoopback(t *testing.T) {
	e := echo.New()
	advise.MountProbe(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f := transport.NewFactory(config.Config{Calls: config.Calls{Timeout: 5 * time.Second, MaxConcurrency: 4,
		BreakerFailures: 5, BreakerCooldown: time.Second}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p := advise.NewProber(f, func() string { return srv.Listener.Addr().String() }, "orders")
	res, err := p.Probe(context.Background(), advise.ProbeRequest{Calls: 50, RequestBytes: 2000, ResponseBytes: 4000})
	require.NoError(t, err)
	require.Len(t, res.Seconds, 50)
	assert.True(t, res.Seconds[0] > 0 && res.Seconds[0] <= res.Seconds[49], "sorted durations")
	assert.Positive(t, res.CPUSecondsPerCall)

	_, err = p.Probe(context.Background(), advise.ProbeRequest{Calls: advise.MaxProbeCalls + 1})
	require.Error(t, err)
}

// The admin route reads this process and its peers over HTTP, names the
// peers that do not answer (leaving their records out), and answers a
// ?separate= naming no module with a validation problem on that field.
func TestAdminRouteReadsItsPeersAndRefusesAnUnknownModuleToSeparate(t *testing.T) {
	p := oneProcess()
	e := echo.New()
	e.GET("/admin/v1/placement", func(c echo.Context) error {
		mods := []map[string]string{}
		for _, m := range p.Modules {
			mods = append(mods, map[string]string{"name": m})
		}
		return c.JSON(200, map[string]any{"process": map[string]any{"services": p.Services}, "modules": mods})
	})
	e.GET("/admin/v1/edges", func(c echo.Context) error { return c.JSON(200, map[string]any{"edges": p.Edges}) })
	e.GET("/admin/v1/routes", func(c echo.Context) error { return c.JSON(200, map[string]any{"routes": p.Routes}) })
	advise.MountProbe(e)
	self := httptest.NewServer(e)
	t.Cleanup(self.Close)
	gone := httptest.NewServer(echo.New())
	gone.Close()

	f := transport.NewFactory(config.Config{Calls: config.Calls{Timeout: 5 * time.Second, MaxConcurrency: 4,
		BreakerFailures: 5, BreakerCooldown: time.Second}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	prober := advise.NewProber(f, func() string { return self.Listener.Addr().String() }, "orders")
	s := advise.NewService(func() string { return self.URL }, []string{self.URL + "/", gone.URL}, prober)

	r, err := s.Advise(context.Background(), []string{"orders", "payments"})
	require.NoError(t, err)
	assert.Equal(t, []string{self.URL}, r.Processes, "a peer that is this process is read once")
	assert.Equal(t, []string{gone.URL}, r.Unreachable)
	assert.Empty(t, r.Note)
	apart := find(t, r.Report, "least added latency separating orders, payments")
	assert.NotEmpty(t, apart.Routes)

	c := e.NewContext(httptest.NewRequest("GET", "/admin/v1/advise?separate=orders,shelf", nil), httptest.NewRecorder())
	err = s.Serve(c)
	var invalid *problem.ValidationError
	require.ErrorAs(t, err, &invalid)
	require.Len(t, invalid.Fields, 1)
	assert.Equal(t, "separate", invalid.Fields[0].Field)
	assert.Contains(t, invalid.Fields[0].Message, `no module "shelf"`)
}

// The probe pauses as long as the busiest edge's calls are apart at the
// recorded rate, within MinProbePause and MaxProbePause.
func TestProbePauseIsTheIntervalBetweenTheBusiestEdgesCalls(t *testing.T) {
	at := func(requests uint64) advise.System {
		p := oneProcess()
		p.Routes[0].Requests = requests // over 10 s, one Charge and one Get each
		return advise.Merge([]advise.Process{p})
	}
	assert.Equal(t, 4*time.Millisecond, advise.ProbePause(at(2500)), "250 calls a second")
	assert.Equal(t, advise.MaxProbePause, advise.ProbePause(at(100)), "10 a second: idle past the bound")
	assert.Equal(t, advise.MinProbePause, advise.ProbePause(at(100_000)))
	idle := oneProcess()
	idle.Routes[0].LastAt = idle.Routes[0].FirstAt // no rate known
	assert.Equal(t, advise.MaxProbePause, advise.ProbePause(advise.Merge([]advise.Process{idle})))
}

// Admin.System asks the console's route for the whole system, with the
// admin's token when it has one, and passes ?separate= on.
func TestSystemAsksTheConsolesRouteWithTheToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/v1/advise" || r.Header.Get("Authorization") != "Bearer admin-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(advise.SystemReport{Report: advise.Report{Processes: []string{r.URL.Query().Get("separate")}},
			Unreachable: []string{"http://down:9090"}})
	}))
	t.Cleanup(srv.Close)

	_, err := (advise.Admin{HTTP: srv.Client()}).System(t.Context(), srv.URL, nil)
	require.ErrorContains(t, err, "answered 401")
	r, err := (advise.Admin{HTTP: srv.Client(), Token: "admin-token"}).System(t.Context(), srv.URL+"/", []string{"orders", "payments"})
	require.NoError(t, err)
	assert.Equal(t, []string{"orders,payments"}, r.Processes)
	assert.Equal(t, []string{"http://down:9090"}, r.Unreachable)
}
