package contract

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the registry's edges to Prometheus, read at scrape
// time: the calls themselves only add to atomics.
func (r *Registry) Collector() prometheus.Collector { return edgeCollector{r} }

var (
	edgeLabels = []string{"caller", "callee", "method", "transport"}
	callsDesc  = prometheus.NewDesc("mitosis_contract_calls_total",
		"Contract calls by calling module, callee, method and transport (local: in-process, http: over the network). "+
			"In-process calls are counted, not timed: reading the clock would cost more than the call.",
		edgeLabels, nil)
	failuresDesc = prometheus.NewDesc("mitosis_contract_call_failures_total",
		"Contract calls that failed, by edge and the error's stable code (other: a code the callee's contract does not declare).",
		append(append([]string{}, edgeLabels...), "code"), nil)
	durationDesc = prometheus.NewDesc("mitosis_contract_call_duration_seconds",
		"Duration of contract calls over HTTP, retries and waits for a slot included, by edge. "+
			"In-process calls are not timed (they are counted in mitosis_contract_calls_total).",
		edgeLabels, nil)
)

type edgeCollector struct{ r *Registry }

func (c edgeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- callsDesc
	ch <- failuresDesc
	ch <- durationDesc
}

func (c edgeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.r.Counts() {
		if e.Caller == "" && e.Calls == 0 {
			continue // an unbound stub nobody called: its edges say nothing
		}
		labels := []string{e.Caller, e.Callee, e.Method, e.Transport}
		ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.CounterValue, float64(e.Calls), labels...)
		for code, n := range e.Failures {
			ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(n), append(labels, code)...)
		}
		if l := e.Latency; l != nil {
			buckets := make(map[float64]uint64, len(DurationBuckets))
			for i, le := range DurationBuckets {
				buckets[le] = l.Buckets[i]
			}
			ch <- prometheus.MustNewConstHistogram(durationDesc, l.Count, l.SumSeconds, buckets, labels...)
		}
	}
}
