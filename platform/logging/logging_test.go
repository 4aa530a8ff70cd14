package logging_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"mitosis/platform/config"
	"mitosis/platform/logging"
	"mitosis/platform/transport"
)

// lines parses JSON log output, one object a line.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var got []map[string]any
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "%s", sc.Text())
		got = append(got, line)
	}
	return got
}

func jsonConfig(level string) config.Config {
	return config.Config{Log: config.Log{Format: config.LogJSON, Level: level}}
}

// A line logged with a request's context carries its span's trace and
// span ids (a real span of the OpenTelemetry SDK), its request id and the
// module its route belongs to.
func TestLinesOfARequestCarryItsIds(t *testing.T) {
	var out bytes.Buffer
	log := logging.New(jsonConfig("info"), &out)
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	defer span.End()
	ctx = logging.WithModule(transport.WithRequestID(ctx, "req-1"), "payments")

	log.InfoContext(ctx, "charged", "cents", 500)
	log.With("module", "orders").WarnContext(ctx, "own module")
	log.Info("no context")

	raw := strings.Split(out.String(), "\n")
	got := lines(t, &out)
	require.Len(t, got, 3)
	sc := span.SpanContext()
	assert.Equal(t, "charged", got[0]["msg"])
	assert.Equal(t, sc.TraceID().String(), got[0]["trace_id"])
	assert.Equal(t, sc.SpanID().String(), got[0]["span_id"])
	assert.Equal(t, "req-1", got[0]["request_id"])
	assert.Equal(t, "payments", got[0]["module"])
	assert.EqualValues(t, 500, got[0]["cents"])

	assert.Equal(t, "orders", got[1]["module"], "a module's own logger keeps its name")
	assert.Equal(t, 1, strings.Count(raw[1], `"module"`), "once: %s", raw[1])
	assert.Equal(t, sc.TraceID().String(), got[1]["trace_id"])

	assert.NotContains(t, got[2], "trace_id")
	assert.NotContains(t, got[2], "request_id")
}

// Without a span (tracing not set up) the other ids are still there.
func TestLinesWithoutASpan(t *testing.T) {
	var out bytes.Buffer
	logging.New(jsonConfig("info"), &out).InfoContext(transport.WithRequestID(context.Background(), "r"), "x")
	got := lines(t, &out)
	require.Len(t, got, 1)
	assert.NotContains(t, got[0], "trace_id")
	assert.Equal(t, "r", got[0]["request_id"])
}

func TestLevelAndFormat(t *testing.T) {
	var out bytes.Buffer
	log := logging.New(jsonConfig("warn"), &out)
	log.Info("hidden")
	log.Warn("shown")
	got := lines(t, &out)
	require.Len(t, got, 1)
	assert.Equal(t, "shown", got[0]["msg"])

	out.Reset()
	log = logging.New(config.Config{Env: config.Development, Log: config.Log{Level: "debug"}}, &out)
	log.DebugContext(logging.WithModule(context.Background(), "users"), "text in development")
	assert.Contains(t, out.String(), `msg="text in development" module=users`)
	assert.True(t, strings.HasPrefix(out.String(), "time="))
}
