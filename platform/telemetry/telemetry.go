// Package telemetry sets up OpenTelemetry tracing for one process.
//
// Each module is its own service.name, whichever modules share the
// process: Tracer(module) answers from a TracerProvider of that module,
// and every provider of the process feeds one batch processor and one
// exporter, so a trace viewer shows users, orders and payments as services
// in one process as in four. The process itself (health, docs) traces as
// ProcessService. Every provider carries the process's resource attributes:
// its SERVICES group, pid and host.
//
// TRACING=off still makes trace ids and propagates them (x-trace-id is on
// every answer, traceparent crosses every hop, unsampled) but records
// nothing; stubs then call in-process implementations directly (On).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/fx"

	"mitosis/platform/config"
)

// ProcessService is the service.name of what belongs to the process rather
// than to one module: health, the API documents, a route nobody owns.
const ProcessService = "mitosis"

// scope names the instrumentation in every span.
const scope = "mitosis"

// flushTimeout bounds the export of the last spans at stop.
const flushTimeout = 5 * time.Second

// Tracing is the process's tracing: a tracer per service over one shared
// export pipeline. A nil *Tracing traces nothing (tests, CLI commands).
type Tracing struct {
	on       bool
	sampler  sdktrace.Sampler
	batch    sdktrace.SpanProcessor // nil when off or memory
	ring     *Ring                  // nil when off
	process  []attribute.KeyValue   // resource attributes of every service
	endpoint string                 // where spans go, for the start log

	mu        sync.RWMutex
	providers map[string]trace.TracerProvider
	tracers   map[string]trace.Tracer
}

// Settings are what New needs besides the configuration.
type Settings struct {
	Tracing config.Tracing
	// Env is APP_ENV, the deployment environment of the resource.
	Env string
	// Services are the modules of this process (its SERVICES group).
	Services []string
	// Stdout receives the spans of TRACING=stdout (os.Stdout when nil).
	Stdout io.Writer
}

// New builds the tracing of settings. It connects to nothing: an OTLP
// collector that is down loses spans, never a request.
func New(s Settings) (*Tracing, error) {
	host, _ := os.Hostname()
	t := &Tracing{
		on: s.Tracing.Exporter != config.TracingOff,
		process: []attribute.KeyValue{
			semconv.ServiceNamespace(ProcessService),
			semconv.ServiceInstanceID(uuid.NewString()),
			semconv.HostName(host),
			semconv.ProcessPID(os.Getpid()),
			semconv.DeploymentEnvironmentNameKey.String(s.Env),
			attribute.String("mitosis.services", strings.Join(s.Services, ",")),
		},
		providers: map[string]trace.TracerProvider{},
		tracers:   map[string]trace.Tracer{},
	}
	if !t.on {
		// Not parent-based: off records nothing, whatever a caller asks.
		t.sampler = sdktrace.NeverSample()
		return t, nil
	}
	t.sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.Tracing.SampleRate))
	t.ring = NewRing(RingTraces)
	if s.Tracing.Exporter == config.TracingMemory {
		t.endpoint = "memory (the console's recent traces)"
		return t, nil
	}
	var exp sdktrace.SpanExporter
	var err error
	switch s.Tracing.Exporter {
	case config.TracingStdout:
		out := s.Stdout
		if out == nil {
			out = os.Stdout
		}
		t.endpoint = "stdout"
		exp, err = stdouttrace.New(stdouttrace.WithWriter(out))
	case config.TracingOTLP:
		// The endpoint is passed explicitly: the exporter's own reading of
		// OTEL_EXPORTER_OTLP_* is not the path configuration takes.
		t.endpoint = s.Tracing.TracesEndpoint()
		exp, err = otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(t.endpoint))
	default:
		err = fmt.Errorf("unknown exporter %q", s.Tracing.Exporter)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	t.batch = sdktrace.NewBatchSpanProcessor(exp)
	return t, nil
}

// On reports whether spans are recorded (TRACING is not off). Contract
// stubs read it once, when they are built.
func (t *Tracing) On() bool { return t != nil && t.on }

// Ring is the process's recent traces (nil when TRACING is off).
func (t *Tracing) Ring() *Ring {
	if t == nil {
		return nil
	}
	return t.ring
}

// Tracer is the tracer of service: a module's name, or ProcessService.
func (t *Tracing) Tracer(service string) trace.Tracer {
	if t == nil {
		return noop.NewTracerProvider().Tracer(scope)
	}
	t.mu.RLock()
	tr, ok := t.tracers[service]
	t.mu.RUnlock()
	if ok {
		return tr
	}
	tr = t.Provider(service).Tracer(scope)
	t.mu.Lock()
	t.tracers[service] = tr
	t.mu.Unlock()
	return tr
}

// Provider is the TracerProvider of service, for instrumentation that
// takes one (otelhttp).
func (t *Tracing) Provider(service string) trace.TracerProvider {
	if t == nil {
		return noop.NewTracerProvider()
	}
	t.mu.RLock()
	p, ok := t.providers[service]
	t.mu.RUnlock()
	if ok {
		return p
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.providers[service]; ok {
		return p
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
			append([]attribute.KeyValue{semconv.ServiceName(service)}, t.process...)...)),
		sdktrace.WithSampler(t.sampler),
		sdktrace.WithIDGenerator(idGenerator{}),
	}
	if t.batch != nil {
		// Every provider shares the one processor; Shutdown stops it once.
		opts = append(opts, sdktrace.WithSpanProcessor(shared{t.batch}))
	}
	if t.ring != nil {
		opts = append(opts, sdktrace.WithSpanProcessor(t.ring))
	}
	p = sdktrace.NewTracerProvider(opts...)
	t.providers[service] = p
	return p
}

// ForceFlush exports every span ended so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t == nil || t.batch == nil {
		return nil
	}
	return t.batch.ForceFlush(ctx)
}

// Shutdown exports the spans still queued and stops the export.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.batch == nil {
		return nil
	}
	return t.batch.Shutdown(ctx)
}

// shared is the batch processor as each provider holds it: the providers
// are never shut down one by one, the processor once, by Tracing.
type shared struct{ sdktrace.SpanProcessor }

func (shared) Shutdown(context.Context) error { return nil }

// Start builds the process's tracing and flushes it, within flushTimeout,
// when the app stops: fx stops hooks in reverse order, and this one is
// registered before the server's, the relays' and the workers', so their
// last spans are exported too. A collector that is gone at stop is logged,
// not an unclean exit.
func Start(lc fx.Lifecycle, cfg config.Config, services []string, log *slog.Logger) (*Tracing, error) {
	t, err := New(Settings{Tracing: cfg.Tracing, Env: cfg.Env, Services: services})
	if err != nil {
		return nil, err
	}
	if t.On() {
		log.Info("tracing", "exporter", cfg.Tracing.Exporter, "endpoint", t.endpoint, "sample_rate", cfg.Tracing.SampleRate)
	}
	lc.Append(fx.StopHook(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, flushTimeout)
		defer cancel()
		if err := t.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("tracing: last spans not exported", "err", err)
		} else if t.On() {
			log.Info("shutdown: telemetry flushed")
		}
	}))
	return t, nil
}
