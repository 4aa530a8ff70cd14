package telemetry

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// RingTraces is how many recent traces a process keeps for the console;
// RingSpans caps the spans kept of one trace.
const (
	RingTraces = 1000
	RingSpans  = 500
)

// Ring is a span processor keeping the spans of the last RingTraces traces
// in memory, oldest out first: the console's view of recent traces without
// a collector. It sees every recorded span (sampled, and TRACING not off),
// next to the exporter.
type Ring struct {
	mu     sync.Mutex
	traces map[trace.TraceID][]Span
	order  []trace.TraceID // oldest first
	max    int
}

// Span is one recorded span as the console shows it.
type Span struct {
	TraceID  string            `json:"trace_id"`
	SpanID   string            `json:"span_id"`
	ParentID string            `json:"parent_id,omitempty"`
	Name     string            `json:"name"`
	Service  string            `json:"service"`
	Kind     string            `json:"kind"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Error    bool              `json:"error"`
	Status   string            `json:"status,omitempty"`
	Attrs    map[string]string `json:"attributes,omitempty"`
}

// TraceSummary is one trace in the list: what of it this process holds.
type TraceSummary struct {
	TraceID    string    `json:"trace_id"`
	Root       string    `json:"root"`
	Start      time.Time `json:"start"`
	DurationMS float64   `json:"duration_ms"`
	Error      bool      `json:"error"`
	Services   []string  `json:"services"`
	Spans      int       `json:"spans"`
}

// NewRing keeps up to max traces.
func NewRing(max int) *Ring { return &Ring{traces: map[trace.TraceID][]Span{}, max: max} }

func (r *Ring) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *Ring) Shutdown(context.Context) error                  { return nil }
func (r *Ring) ForceFlush(context.Context) error                { return nil }

// OnEnd keeps the span.
func (r *Ring) OnEnd(s sdktrace.ReadOnlySpan) {
	sp := Span{
		TraceID: s.SpanContext().TraceID().String(), SpanID: s.SpanContext().SpanID().String(),
		Name: s.Name(), Kind: s.SpanKind().String(), Start: s.StartTime(), End: s.EndTime(),
		Error: s.Status().Code == codes.Error, Status: s.Status().Description,
	}
	if p := s.Parent(); p.IsValid() {
		sp.ParentID = p.SpanID().String()
	}
	for _, kv := range s.Resource().Attributes() {
		if kv.Key == "service.name" {
			sp.Service = kv.Value.Emit()
		}
	}
	for _, kv := range s.Attributes() {
		if sp.Attrs == nil {
			sp.Attrs = map[string]string{}
		}
		if len(sp.Attrs) < 24 {
			v := kv.Value.Emit()
			if len(v) > 200 {
				v = v[:200] + "…"
			}
			sp.Attrs[string(kv.Key)] = v
		}
	}
	id := s.SpanContext().TraceID()
	r.mu.Lock()
	defer r.mu.Unlock()
	spans, ok := r.traces[id]
	if !ok {
		if len(r.order) >= r.max {
			delete(r.traces, r.order[0])
			r.order = r.order[1:]
		}
		r.order = append(r.order, id)
	}
	// Past the cap a trace's later spans are left out, but not its root
	// here (which ends last): the list names a trace by it.
	if len(spans) < RingSpans || !s.Parent().IsValid() || s.Parent().IsRemote() {
		r.traces[id] = append(spans, sp)
	}
}

// Trace returns the spans this process holds of the trace id, by start.
func (r *Ring) Trace(id string) []Span {
	tid, err := trace.TraceIDFromHex(id)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	out := slices.Clone(r.traces[tid])
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Filter selects traces for Recent.
type Filter struct {
	MinMS, MaxMS float64 // duration bounds; MaxMS 0 means none
	ErrorsOnly   bool
	Service      string // a module (service.name) with a span in it
	// HideProbes leaves out traces of health probes (a root GET /health…),
	// which the monitors make every few seconds.
	HideProbes bool
	Limit      int
}

// Recent lists the traces matching f, newest first.
func (r *Ring) Recent(f Filter) []TraceSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []TraceSummary{}
	for i := len(r.order) - 1; i >= 0 && (f.Limit <= 0 || len(out) < f.Limit); i-- {
		s := summarize(r.order[i], r.traces[r.order[i]])
		if s.DurationMS < f.MinMS || (f.MaxMS > 0 && s.DurationMS >= f.MaxMS) || (f.ErrorsOnly && !s.Error) {
			continue
		}
		if f.Service != "" && !slices.Contains(s.Services, f.Service) {
			continue
		}
		if f.HideProbes && strings.HasPrefix(s.Root, "GET /health") {
			continue
		}
		out = append(out, s)
	}
	return out
}

func summarize(id trace.TraceID, spans []Span) TraceSummary {
	s := TraceSummary{TraceID: id.String(), Spans: len(spans), Services: []string{}}
	var start, end time.Time
	ids := map[string]bool{}
	for _, sp := range spans {
		ids[sp.SpanID] = true
	}
	for _, sp := range spans {
		if start.IsZero() || sp.Start.Before(start) {
			start = sp.Start
		}
		if sp.End.After(end) {
			end = sp.End
		}
		if sp.Error {
			s.Error = true
		}
		if !slices.Contains(s.Services, sp.Service) {
			s.Services = append(s.Services, sp.Service)
		}
		// The root here: no parent, or a parent in another process.
		if (sp.ParentID == "" || !ids[sp.ParentID]) && (s.Root == "" || sp.Start.Before(s.Start)) {
			s.Root, s.Start = sp.Name, sp.Start
		}
	}
	sort.Strings(s.Services)
	s.Start = start
	s.DurationMS = float64(end.Sub(start).Microseconds()) / 1000
	return s
}
