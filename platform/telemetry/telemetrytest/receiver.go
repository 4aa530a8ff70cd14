// Package telemetrytest is an OTLP/HTTP trace receiver for tests: a real
// HTTP server on loopback that decodes the protobuf requests exporters send
// (go.opentelemetry.io/proto/otlp) and keeps the spans for assertions.
package telemetrytest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"mitosis/platform/config"
	"mitosis/platform/telemetry"
)

// TracesPath is where OTLP/HTTP exporters send spans.
const TracesPath = "/v1/traces"

// Span is one received span, flattened for assertions. Ids are lowercase
// hex; ParentID is "" for a root.
type Span struct {
	TraceID, SpanID, ParentID string
	Name                      string
	Kind                      string // server, client, internal, producer, consumer
	Service                   string // the resource's service.name
	Resource                  map[string]string
	Attributes                map[string]string
	Links                     []Link
	Error                     bool // status code error
	Sampled                   bool // the span's W3C flags
}

// Link is a span's link to another span.
type Link struct{ TraceID, SpanID string }

// Receiver keeps every span exported to it.
type Receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	spans    []Span
	requests int
}

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TracesPath, r.export)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// Discard runs an OTLP endpoint that accepts every export unread, for
// benchmarks: what they measure is then the exporting process's work, not
// a receiver's decoding. It returns the base URL.
func Discard(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK) // an empty body is an empty ExportTraceServiceResponse
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// URL is the receiver's base URL (OTEL_EXPORTER_OTLP_ENDPOINT).
func (r *Receiver) URL() string { return r.srv.URL }

// Requests counts the export requests received.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

func (r *Receiver) export(w http.ResponseWriter, req *http.Request) {
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "want application/x-protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in collectorpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []Span
	for _, rs := range in.GetResourceSpans() {
		res := attributes(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				got = append(got, flatten(s, res))
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.requests++
	r.mu.Unlock()
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func flatten(s *tracepb.Span, res map[string]string) Span {
	sp := Span{
		TraceID:    hex.EncodeToString(s.GetTraceId()),
		SpanID:     hex.EncodeToString(s.GetSpanId()),
		ParentID:   hex.EncodeToString(s.GetParentSpanId()),
		Name:       s.GetName(),
		Kind:       strings.ToLower(strings.TrimPrefix(s.GetKind().String(), "SPAN_KIND_")),
		Service:    res["service.name"],
		Resource:   res,
		Attributes: attributes(s.GetAttributes()),
		Error:      s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR,
		Sampled:    s.GetFlags()&uint32(tracepb.SpanFlags_SPAN_FLAGS_TRACE_FLAGS_MASK)&1 == 1,
	}
	for _, l := range s.GetLinks() {
		sp.Links = append(sp.Links, Link{TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId())})
	}
	return sp
}

// attributes renders every value as text: enough to compare.
func attributes(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			out[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}

// Spans returns a copy of every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Trace returns the spans of one trace, in the order received.
func (r *Receiver) Trace(traceID string) []Span {
	var out []Span
	for _, s := range r.Spans() {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

// Named returns the spans named name, from any trace.
func (r *Receiver) Named(name string) []Span {
	var out []Span
	for _, s := range r.Spans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// WaitFor waits (up to within) until match holds for the spans received,
// and returns them; exporters batch, so spans arrive some time after they end.
func (r *Receiver) WaitFor(t testing.TB, within time.Duration, what string, match func([]Span) bool) []Span {
	t.Helper()
	var spans []Span
	require.Eventually(t, func() bool {
		spans = r.Spans()
		return match(spans)
	}, within, 20*time.Millisecond, "waiting for %s; have %d spans: %s", what, len(r.Spans()), Names(r.Spans()))
	return spans
}

// Names lists span names, sorted, for failure messages.
func Names(spans []Span) string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Service + ":" + s.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Tracing returns a process tracing that exports to r with the given
// sample rate, shut down (flushed) when the test ends.
func Tracing(t testing.TB, r *Receiver, rate float64, services ...string) *telemetry.Tracing {
	t.Helper()
	tr, err := telemetry.New(telemetry.Settings{
		Tracing:  config.Tracing{Exporter: config.TracingOTLP, SampleRate: rate, OTLPEndpoint: r.URL()},
		Env:      config.Development,
		Services: services,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Shutdown(t.Context()) })
	return tr
}
