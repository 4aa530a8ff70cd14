// Package metrics holds the process's Prometheus registry, served at
// /metrics on the admin listener. Each platform package and module
// registers its own collectors on it through fx (prometheus.Registerer);
// this package adds the Go runtime, the process and mitosis_build_info.
//
// Why prometheus/client_golang directly, not the OpenTelemetry metrics API
// with its Prometheus exporter: most of what we expose already lives in
// counters kept for other reasons (contract edges, breakers, the outbox
// tables), and a client_golang Collector reads them at scrape time, so the
// call path pays nothing; client_golang also brings the standard Go
// runtime, process and database/sql collectors every Prometheus user
// expects, under their usual names. The OTel SDK would add a meter
// provider, views and an aggregation pipeline between our counters and
// the same text format, with nothing gained while traces are the only
// signal we export over OTLP.
//
// No collector is ever registered globally (prometheus.DefaultRegisterer):
// tests run several processes in one binary, each with its own registry.
package metrics

import (
	"net/http"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
)

// Namespace prefixes the metrics of our own making.
const Namespace = "mitosis"

// Build names the running binary in mitosis_build_info.
type Build struct {
	Version, Commit string
}

// NewRegistry returns a registry with the Go runtime and process
// collectors and the build's info.
func NewRegistry(b Build) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "The running build: always 1, its version and commit in labels.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": runtime.Version()},
	})
	info.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info,
	)
	return reg
}

// Module provides the registry as the Registerer collectors are added to
// and the Gatherer /metrics reads.
func Module(b Build) fx.Option {
	return fx.Module("metrics",
		fx.Provide(
			func() *prometheus.Registry { return NewRegistry(b) },
			func(r *prometheus.Registry) prometheus.Registerer { return r },
			func(r *prometheus.Registry) prometheus.Gatherer { return r },
		),
	)
}

// Handler serves the Prometheus text format (or OpenMetrics, when the
// scraper asks for it). A collector that fails is reported in the log and
// its series left out; the rest of the scrape still answers.
func Handler(g prometheus.Gatherer, errorLog promhttp.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          errorLog,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// Register adds collectors to reg, for fx.Invoke.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
