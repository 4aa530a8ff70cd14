package transport

import (
	"github.com/prometheus/client_golang/prometheus"
)

// breakerStates are the states a breaker is shown in, one series each.
var breakerStates = []string{"closed", "half-open", "open"}

// Collector exposes each remote module's breaker state and calls in
// flight, read from the factory at scrape time.
func (f *Factory) Collector() prometheus.Collector { return factoryCollector{f} }

var (
	breakerDesc = prometheus.NewDesc("mitosis_transport_breaker_state",
		"This process's circuit breaker of a remote module: 1 for its current state (closed, half-open, open), 0 for the others.",
		[]string{"module", "state"}, nil)
	inFlightDesc = prometheus.NewDesc("mitosis_transport_calls_in_flight",
		"Calls to a remote module holding one of its CALL_MAX_CONCURRENCY slots now.",
		[]string{"module"}, nil)
	slotsDesc = prometheus.NewDesc("mitosis_transport_call_slots",
		"CALL_MAX_CONCURRENCY: calls to a remote module allowed in flight at once.",
		[]string{"module"}, nil)
)

type factoryCollector struct{ f *Factory }

func (c factoryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- inFlightDesc
	ch <- slotsDesc
}

func (c factoryCollector) Collect(ch chan<- prometheus.Metric) {
	for _, circuit := range c.f.Circuits() {
		for _, s := range breakerStates {
			v := 0.0
			if s == circuit.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, circuit.Module, s)
		}
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(circuit.InFlight), circuit.Module)
		ch <- prometheus.MustNewConstMetric(slotsDesc, prometheus.GaugeValue, float64(circuit.Slots), circuit.Module)
	}
}
