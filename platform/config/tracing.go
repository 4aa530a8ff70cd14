package config

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Trace exporters (TRACING): none, spans as JSON lines on stdout, OTLP
// over HTTP (protobuf) to a collector, Jaeger or Tempo, or memory: spans
// kept only in the process's recent-trace ring, for the console. Every
// exporter but off also keeps that ring.
const (
	TracingOff    = "off"
	TracingStdout = "stdout"
	TracingOTLP   = "otlp"
	TracingMemory = "memory"
)

// OTLPProtocol is the one OTLP protocol the exporter speaks.
const OTLPProtocol = "http/protobuf"

// defaultOTLPEndpoint is the OTLP/HTTP default of the specification.
const defaultOTLPEndpoint = "http://localhost:4318"

// Tracing configures OpenTelemetry traces. The OTLP settings are read from
// the standard OTEL_EXPORTER_OTLP_* variables, so a collector's usual
// environment works unchanged.
type Tracing struct {
	// Exporter is off, stdout, otlp or memory. Off still makes and propagates trace
	// ids (x-trace-id is on every answer); it records and exports nothing.
	Exporter string `yaml:"exporter"`
	// SampleRate is the share of new traces recorded, in [0, 1]; a request
	// that comes with a parent follows the parent's decision.
	SampleRate float64 `yaml:"sample_rate"`
	// OTLPEndpoint is the collector's base URL; traces go to its
	// /v1/traces. OTLPTracesEndpoint, when set, is the full URL instead.
	OTLPEndpoint       string `yaml:"otlp_endpoint"`
	OTLPTracesEndpoint string `yaml:"otlp_traces_endpoint"`
	// OTLPProtocol and OTLPTracesProtocol, when set, must be http/protobuf:
	// a collector configured for gRPC fails startup instead of losing spans.
	OTLPProtocol       string `yaml:"otlp_protocol"`
	OTLPTracesProtocol string `yaml:"otlp_traces_protocol"`
}

// TracesEndpoint is the URL spans are sent to with TRACING=otlp: the
// traces endpoint as given, or the base endpoint with /v1/traces.
func (t Tracing) TracesEndpoint() string {
	if t.OTLPTracesEndpoint != "" {
		return t.OTLPTracesEndpoint
	}
	base := t.OTLPEndpoint
	if base == "" {
		base = defaultOTLPEndpoint
	}
	return strings.TrimRight(base, "/") + "/v1/traces"
}

// applyTracingEnv reads TRACING, TRACING_SAMPLE_RATE and the OTLP
// variables; it returns the errors of values that do not parse.
func applyTracingEnv(t *Tracing, getenv Getenv) []string {
	var errs []string
	for key, dst := range map[string]*string{
		"TRACING":                            &t.Exporter,
		"OTEL_EXPORTER_OTLP_ENDPOINT":        &t.OTLPEndpoint,
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": &t.OTLPTracesEndpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL":        &t.OTLPProtocol,
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": &t.OTLPTracesProtocol,
	} {
		if v, ok := lookup(getenv, key); ok {
			*dst = v
		}
	}
	if v, ok := lookup(getenv, "TRACING_SAMPLE_RATE"); ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Sprintf("TRACING_SAMPLE_RATE must be a number between 0 and 1, got %q", v))
		}
		t.SampleRate = r
	}
	return errs
}

func (t Tracing) validate() []string {
	var errs []string
	switch t.Exporter {
	case TracingOff, TracingStdout, TracingOTLP, TracingMemory:
	default:
		errs = append(errs, fmt.Sprintf("TRACING must be off, stdout, otlp or memory, got %q", t.Exporter))
	}
	// NaN fails both comparisons.
	if !(t.SampleRate >= 0 && t.SampleRate <= 1) || math.IsInf(t.SampleRate, 0) {
		errs = append(errs, fmt.Sprintf("TRACING_SAMPLE_RATE must be a number between 0 and 1, got %v", t.SampleRate))
	}
	if t.Exporter != TracingOTLP {
		return errs
	}
	for name, p := range map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": t.OTLPProtocol, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": t.OTLPTracesProtocol} {
		if p != "" && p != OTLPProtocol {
			errs = append(errs, fmt.Sprintf("%s must be %s (the only protocol exported), got %q", name, OTLPProtocol, p))
		}
	}
	for name, u := range map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": t.OTLPEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": t.OTLPTracesEndpoint} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Sprintf("%s must be an http(s) URL like http://collector:4318, got %q", name, u))
		}
	}
	return errs
}
