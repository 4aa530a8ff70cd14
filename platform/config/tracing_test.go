package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
)

func TestTracingDefaultsToOffAtFullRate(t *testing.T) {
	cfg, err := config.Load(env(nil), modules)
	require.NoError(t, err)
	assert.Equal(t, config.TracingOff, cfg.Tracing.Exporter)
	assert.Equal(t, 1.0, cfg.Tracing.SampleRate)
	assert.Equal(t, "http://localhost:4318/v1/traces", cfg.Tracing.TracesEndpoint())
}

// The standard OTLP variables are read here, and the traces endpoint
// wins over the base one, as the OpenTelemetry specification says.
func TestTracingReadsTheStandardOTLPVariables(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"TRACING": "otlp", "TRACING_SAMPLE_RATE": "0.25",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
	}), modules)
	require.NoError(t, err)
	assert.Equal(t, config.TracingOTLP, cfg.Tracing.Exporter)
	assert.Equal(t, 0.25, cfg.Tracing.SampleRate)
	assert.Equal(t, "http://collector:4318/v1/traces", cfg.Tracing.TracesEndpoint())

	cfg, err = config.Load(env(map[string]string{
		"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example.com/ingest",
	}), modules)
	require.NoError(t, err)
	assert.Equal(t, "https://traces.example.com/ingest", cfg.Tracing.TracesEndpoint())
}

func TestInvalidTracingIsNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"exporter":    {map[string]string{"TRACING": "jaeger"}, "TRACING must be off, stdout, otlp or memory"},
		"rate text":   {map[string]string{"TRACING_SAMPLE_RATE": "half"}, "TRACING_SAMPLE_RATE"},
		"rate high":   {map[string]string{"TRACING_SAMPLE_RATE": "1.5"}, "TRACING_SAMPLE_RATE"},
		"rate low":    {map[string]string{"TRACING_SAMPLE_RATE": "-0.1"}, "TRACING_SAMPLE_RATE"},
		"rate NaN":    {map[string]string{"TRACING_SAMPLE_RATE": "NaN"}, "TRACING_SAMPLE_RATE"},
		"rate Inf":    {map[string]string{"TRACING_SAMPLE_RATE": "+Inf"}, "TRACING_SAMPLE_RATE"},
		"grpc":        {map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf"},
		"traces grpc": {map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		"endpoint":    {map[string]string{"TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(tc.vars), modules)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
