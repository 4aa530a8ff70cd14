package contract

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.uber.org/fx"

	"mitosis/platform/health"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// Transports of a call, as edges and traces name them.
const (
	TransportLocal = "local"
	TransportHTTP  = "http"
)

// conn is how one caller reaches the module: its implementation in this
// process, or its HTTP client. Bound conns of the same base share it.
type conn[S any] struct {
	api    *Contract[S]
	caller string            // the calling module; "" when unbound
	impl   S                 // in-process
	local  bool              // impl is set; the callee runs in this process
	fast   bool              // local, direct and untraced: stubs call impl directly
	client *transport.Client // over HTTP, or through the loopback when local (strict), sending as caller
	edges  []*Edge           // by method index
	spans  []callSpan        // by method index; nil when untraced
	base   *conn[S]          // the unbound conn this was bound from (itself if unbound)
	reg    *Registry

	mu    sync.Mutex
	bound map[string]*conn[S] // by caller, on the base only
}

// Stub carries a module's calls; the module's stub type embeds it and
// implements each method with Call.
type Stub[S any] struct{ c *conn[S] }

// Local returns S calling impl in-process, counted in reg.
func (c *Contract[S]) Local(impl S, reg *Registry) S {
	return c.wrap(Stub[S]{c: c.newConn("", impl, true, nil, reg)})
}

// Remote returns S calling the module over HTTP through client.
func (c *Contract[S]) Remote(client *transport.Client, reg *Registry) S {
	var zero S
	return c.wrap(Stub[S]{c: c.newConn("", zero, false, client, reg)})
}

func (c *Contract[S]) newConn(caller string, impl S, local bool, client *transport.Client, reg *Registry) *conn[S] {
	via := TransportHTTP
	if local {
		via, client = TransportLocal, nil
		if reg.loop != nil {
			client = reg.loop.Client(c.module, c.errors...)
		}
	}
	if client != nil && caller != "" {
		client = client.As(caller)
	}
	direct := local && client == nil // not strict: a method call
	cn := &conn[S]{api: c, caller: caller, impl: impl, local: local, client: client, reg: reg, edges: make([]*Edge, len(c.methods)),
		fast: direct && !reg.tracing.On(), spans: c.spans(caller, direct, via, reg)}
	for i, m := range c.methods {
		cn.edges[i] = reg.edge(caller, c.module, m.name, via, c.errors)
	}
	cn.base = cn
	return cn
}

// ForCaller returns S as the module caller calls it: the same callee, its
// calls counted (and credentialed, over HTTP) as caller's.
func (s Stub[S]) ForCaller(caller string) S {
	base := s.c.base
	base.mu.Lock()
	defer base.mu.Unlock()
	b, ok := base.bound[caller]
	if !ok {
		b = base.api.newConn(caller, base.impl, base.local, base.client, base.reg)
		b.base = base
		if base.bound == nil {
			base.bound = map[string]*conn[S]{}
		}
		base.bound[caller] = b
	}
	return base.api.wrap(Stub[S]{c: b})
}

// Implementation returns what the stub calls in-process (nil over HTTP),
// for benchmarks that compare the stub with a direct call.
func (s Stub[S]) Implementation() any {
	if !s.c.local {
		return nil
	}
	return s.c.impl
}

// Local returns the implementation to call in-process, when the call
// needs nothing more than counting (see Done): a stub method calls it
// directly, which keeps an in-process call one interface call from its
// implementation. Otherwise (the callee is remote, or tracing is on and
// the call needs its span) the stub uses Call.
//
// While a request is recorded in full (see RecordEvery) every call goes
// through Call, which records it.
func (s Stub[S]) Local() (S, bool) { return s.c.impl, s.c.fast && !s.c.reg.recordingOn() }

// Done counts a call the stub made through Local, and returns its error.
//
// In-process calls are counted, not timed: a clock read costs more than
// the call itself (about 60 ns against 20 on the machines we measure on).
func Done[S, In, Out any](s Stub[S], m *Method[S, In, Out], err error) error {
	s.c.edges[m.index].record(err)
	return err
}

// Call performs method m of the stub's module with in, wherever it runs:
// a method call in-process, or a request over HTTP, or (LOCAL_CALLS=strict)
// the same request through this process's loopback.
func Call[S, In, Out any](s Stub[S], m *Method[S, In, Out], ctx context.Context, in In) (Out, error) {
	c := s.c
	e := c.edges[m.index]
	ctx, f := enter(ctx, e)
	ctx, span := c.startSpan(ctx, m.index)
	var out Out
	var err error
	// Timed here only: in-process, the fast path (Local) reads no clock,
	// which would cost more than the call.
	start := time.Now()
	switch {
	case c.client == nil:
		out, err = m.impl(c.impl, ctx, in)
	case c.local:
		out, err = loopback(c, m, ctx, in)
	default:
		out, err = remoteCall(c.client, ctx, m, in)
		err = named(c.api.module, m.name, err)
	}
	took := time.Since(start)
	e.observe(took)
	if f != nil { // only then: boxing the values for the encoder allocates
		e.size(in, out)
	}
	e.record(err)
	endSpan(span, err)
	return out, err
}

// remoteCall sends one call over HTTP (or the loopback). Apart from Call
// so that only these paths pay for the answer escaping to the heap.
func remoteCall[S, In, Out any](client *transport.Client, ctx context.Context, m *Method[S, In, Out], in In) (Out, error) {
	var out Out
	err := client.Call(ctx, m.safety(in), http.MethodPost, m.path, in, &out)
	return out, err
}

// ForCaller returns s as the module caller calls it, when s is a stub;
// other implementations (a test's fake) are returned as they are.
func ForCaller[S any](s S, caller string) S {
	if b, ok := any(s).(interface{ ForCaller(string) S }); ok {
		return b.ForCaller(caller)
	}
	return s
}

// Bind makes every use of S inside the caller's fx module the stub bound
// to caller (topology.Options applies it to each dependency of a local
// module).
func (c *Contract[S]) Bind(caller string) fx.Option {
	return fx.Decorate(func(s S) S { return ForCaller(s, caller) })
}

// RemoteOption provides S as an HTTP client of the module at its
// configured URL, and gives the module, with its breaker, to this
// process's health monitor, which checks its readiness.
func (c *Contract[S]) RemoteOption() fx.Option {
	return fx.Options(
		fx.Provide(func(p topology.Placement, f *transport.Factory, checks *health.Registry, reg *Registry) S {
			client := f.New(c.module, p.URL(c.module), c.errors...)
			checks.AddRemote(c.module, client.BaseURL(), client.Ready, client.CircuitState)
			return c.Remote(client, reg)
		}),
		fx.Invoke(func(S) {}),
	)
}
