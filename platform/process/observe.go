package process

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"mitosis/platform/admin"
	"mitosis/platform/advise"
	"mitosis/platform/config"
	"mitosis/platform/console"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/health"
	"mitosis/platform/httpserver"
	"mitosis/platform/metrics"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
	"mitosis/platform/webui"
)

// observability is what operators see of the process: its health (with
// the monitor of its remote modules), its metrics, and the admin listener
// that serves them in detail.
func observability(cfg config.Config, place topology.Placement, log *slog.Logger) fx.Option {
	version, commit := build()
	started := time.Now()
	return fx.Options(
		fx.Supply(&admin.Bound{}),
		fx.Provide(func() *health.Registry { return health.NewRegistry(health.Version(version), health.Logger(log)) }),
		metrics.Module(metrics.Build{Version: version, Commit: commit}),
		admin.Module,
		fx.Invoke(func(reg prometheus.Registerer, edges *contract.Registry, f *transport.Factory) error {
			return metrics.Register(reg, edges.Collector(), f.Collector())
		}),
		fx.Invoke(func(lc fx.Lifecycle, checks *health.Registry) {
			for _, m := range place.Modules() {
				if place.IsLocal(m.Name) {
					checks.Local(m.Name, remoteOnly(place, m.DependsOn)...)
				}
			}
			m := checks.Monitor(cfg.Health.MonitorInterval)
			lc.Append(fx.StartStopHook(m.Start, m.Stop))
		}),
		fx.Invoke(func(s *admin.Server, g prometheus.Gatherer, checks *health.Registry, edges *contract.Registry, f *transport.Factory,
			bound *httpserver.Bound, adminBound *admin.Bound, access *console.Access) {
			s.Handle(http.MethodGet, "/metrics", "Prometheus metrics (text format, or OpenMetrics when asked)",
				echo.WrapHandler(metrics.Handler(g, promLog{log})))
			s.Handle(http.MethodGet, admin.Prefix+"/health", "Every check with its error, and each remote module's URL and last check",
				checks.ServeDetail)
			s.Handle(http.MethodGet, admin.Prefix+"/edges", "Contract calls per caller, callee, method and transport, with failures by code",
				func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"edges": edges.Counts()}) })
			s.Handle(http.MethodGet, admin.Prefix+"/routes", "Requests per route template, and of those recorded (RECORD_EVERY) the contract calls each made, fan-out and depth",
				func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"routes": edges.Routes()}) })
			prober := advise.NewProber(f, func() string { return bound.Addr }, "")
			s.Handle(http.MethodPost, admin.Prefix+"/advise/probe", "Time round trips of a contract call to this process itself over HTTP (calls, request_bytes, response_bytes)",
				prober.Serve)
			advisor := advise.NewService(func() string { return "http://" + adminBound.Addr }, cfg.Admin.Peers, prober)
			s.Handle(http.MethodGet, admin.Prefix+"/advise", "What each candidate placement would add per public route, for this process and its peers (ADMIN_PEERS), from their records and a probed hop (?separate=a,b)",
				access.Read(advisor.Serve))
			s.Handle(http.MethodGet, admin.Prefix+"/circuits", "Each remote module's breaker, calls in flight and slots",
				func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"circuits": f.Circuits()}) })
			s.Handle(http.MethodGet, admin.Prefix+"/placement", "This process and where every module runs, as seen from it",
				func(c echo.Context) error { return c.JSON(http.StatusOK, describe(place, version, commit, started)) })
		}),
		fx.Provide(console.NewAccess),
		fx.Invoke(func(s *admin.Server, cluster *db.Cluster, access *console.Access) error {
			redacted, err := cfg.Redacted()
			if err != nil {
				return fmt.Errorf("configuration for the console: %w", err)
			}
			s.Handle(http.MethodGet, admin.Prefix+"/config", "The effective configuration, secrets redacted",
				access.Read(func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]any{"config": redacted}) }))
			s.Handle(http.MethodGet, admin.Prefix+"/migrations", "The migrations of every local module's schema, applied or not",
				func(c echo.Context) error {
					return c.JSON(http.StatusOK, map[string]any{"schemas": cluster.Migrations(c.Request().Context())})
				})
			return nil
		}),
		fx.Invoke(func(s *admin.Server, tracing *telemetry.Tracing, access *console.Access) {
			s.Handle(http.MethodGet, admin.Prefix+"/traces", "Recent traces kept in memory (?min_ms, max_ms, errors=true, module, probes=true, limit), or one trace's spans (?trace_id)",
				access.Read(func(c echo.Context) error { return recentTraces(c, tracing.Ring()) }))
		}),
		fx.Invoke(func(s *admin.Server, m *events.Metrics, access *console.Access) {
			s.Handle(http.MethodGet, admin.Prefix+"/events", "Each local outbox: backlog, oldest undelivered age and attempts per subscriber, dead letters",
				access.Read(func(c echo.Context) error {
					return c.JSON(http.StatusOK, map[string]any{"outboxes": m.States(c.Request().Context())})
				}))
			s.Handle(http.MethodPost, admin.Prefix+"/events/replay", "Replay dead letters of a local outbox; body {module, id} (no id: all of them)",
				access.Act(func(c echo.Context) error { return replay(c, m) }))
		}),
		fx.Provide(func() (*console.Parts, error) { return consoleParts(place) }),
		fx.Provide(console.New),
		fx.Invoke(func(c *console.Console, s *admin.Server, pages *webui.Files, access *console.Access) {
			c.Mount(s, pages, access)
		}),
	)
}

// platformParts are the routes above, served by every process, that the
// console gathers; the modules declare theirs (topology.Spec.AdminParts).
var platformParts = []string{"placement", "health", "edges", "circuits", "config", "migrations", "events", "traces"}

// consoleParts registers the platform's parts and every module's, local
// or not: the console of a process without orders still gathers its sagas
// from the peers.
func consoleParts(place topology.Placement) (*console.Parts, error) {
	names := slices.Clone(platformParts)
	for _, m := range place.Modules() {
		names = append(names, m.AdminParts...)
	}
	return console.NewParts(names...)
}

func remoteOnly(place topology.Placement, deps []string) []string {
	var out []string
	for _, d := range deps {
		if !place.IsLocal(d) {
			out = append(out, d)
		}
	}
	return out
}

// Placement is the answer of /admin/v1/placement.
type Placement struct {
	Process ProcessInfo       `json:"process"`
	Modules []ModulePlacement `json:"modules"`
}

// ProcessInfo names this process.
type ProcessInfo struct {
	Services  []string  `json:"services"`
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Version   string    `json:"version"`
	Commit    string    `json:"commit"`
	StartedAt time.Time `json:"started_at"`
}

// ModulePlacement is where one module runs, as this process sees it.
type ModulePlacement struct {
	Name string `json:"name"`
	// Where is local, remote, or not used here.
	Where     string   `json:"where"`
	URL       string   `json:"url,omitempty"`
	DependsOn []string `json:"depends_on"`
	Routes    []string `json:"routes"`
	Stateless bool     `json:"stateless"`
	// Publishes and Subscribes are the event types it sends and handles.
	Publishes  []string `json:"publishes"`
	Subscribes []string `json:"subscribes"`
}

func describe(place topology.Placement, version, commit string, started time.Time) Placement {
	host, _ := os.Hostname()
	out := Placement{Process: ProcessInfo{Services: place.Local(), PID: os.Getpid(), Host: host,
		Version: version, Commit: commit, StartedAt: started.UTC()}}
	for _, m := range place.Modules() {
		mp := ModulePlacement{Name: m.Name, Where: "not used", URL: place.URL(m.Name), DependsOn: append([]string{}, m.DependsOn...),
			Routes: append([]string{}, m.Routes...), Stateless: m.Stateless,
			Publishes: append([]string{}, m.Publishes...), Subscribes: append([]string{}, place.Subscriptions(m.Name)...)}
		switch {
		case place.IsLocal(m.Name):
			mp.Where, mp.URL = "local", ""
		case mp.URL != "":
			mp.Where = "remote"
		}
		out.Modules = append(out.Modules, mp)
	}
	return out
}

// promLog passes promhttp's errors (a collector that failed) to the log.
type promLog struct{ log *slog.Logger }

func (p promLog) Println(v ...any) { p.log.Warn("metrics", "err", v) }
