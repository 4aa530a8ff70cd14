package transport

import (
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// Credentials sets the headers that authenticate a call from the module
// caller ("" for the calling process's modules) to the module callee.
type Credentials interface {
	Apply(h http.Header, caller, callee string) error
}

// Factory builds the clients of remote modules. They share one connection
// pool and credentials; every client of one module shares its breaker and
// its cap on calls in flight.
type Factory struct {
	http  http.RoundTripper
	calls config.Calls
	creds Credentials
	log   *slog.Logger

	mu     sync.Mutex
	guards map[string]*guard // by module name
}

// guard is what protects one remote module, whichever client calls it.
type guard struct {
	module  string
	url     string
	breaker *breaker
	limiter *limiter
	retries int
	backoff time.Duration
}

// NewFactory returns a factory with keep-alive pooling sized for
// module-to-module traffic. creds may be nil (calls carry no credentials);
// log receives breaker state changes.
func NewFactory(cfg config.Config, creds Credentials, log *slog.Logger) *Factory {
	tr := &http.Transport{
		Proxy:                 nil, // module calls never go through an outbound proxy
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // the per-call deadline governs
		ForceAttemptHTTP2:     false,
		// No "Accept-Encoding: gzip" on every call: our servers never
		// compress (answers are small JSON on a fast network), so the offer
		// only cost a header to build, send and parse on every call.
		DisableCompression: true,
	}
	return &Factory{
		http: tr, calls: cfg.Calls, creds: creds, log: log,
		guards: map[string]*guard{},
	}
}

// New returns a client of the module named module at base, which decodes
// the module's errors. Calls go through retries, then the module's cap on
// calls in flight, then its breaker.
func (f *Factory) New(module, base string, known ...*problem.Error) *Client {
	return f.client(f.http, base, f.guard(module, base), known)
}

// client is a client of g's module at base, sending through rt, with the
// factory's timeout and credentials.
func (f *Factory) client(rt http.RoundTripper, base string, g *guard, known []*problem.Error) *Client {
	c := &Client{
		base: base, urls: newURLs(base), http: rt, known: problem.Registry(known...),
		timeout: f.calls.Timeout, creds: f.creds, callee: g.module, guard: g,
	}
	c.send = g.decorate(c.attempt)
	return c
}

// decorate puts the guard's retries, cap and breaker around attempt; a
// loopback's guard has only the retries (see Loopback.Client).
func (g *guard) decorate(attempt send) send {
	if g.breaker == nil {
		return retry(g.retries, g.backoff, attempt)
	}
	return retry(g.retries, g.backoff, g.limiter.wrap(g.breaker.wrap(attempt)))
}

func (f *Factory) guard(module, base string) *guard {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.guards[module]
	if !ok {
		g = &guard{module: module, url: base, breaker: newBreaker(module, f.calls, f.log), limiter: newLimiter(f.calls.MaxConcurrency),
			retries: f.calls.Retries, backoff: f.calls.Backoff}
		f.guards[module] = g
	}
	return g
}

// Circuit is the breaker of one remote module, as listings show it.
type Circuit struct {
	Module string `json:"module"`
	URL    string `json:"url"`
	State  string `json:"state"` // closed, open or half-open
	// InFlight is how many calls hold one of the module's Slots now.
	InFlight int `json:"in_flight"`
	Slots    int `json:"slots"`
}

// Circuits lists the breaker of every remote module this factory built a
// client for, by module name.
func (f *Factory) Circuits() []Circuit {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Circuit, 0, len(f.guards))
	for module, g := range f.guards {
		out = append(out, Circuit{Module: module, URL: g.url, State: g.breaker.state(),
			InFlight: int(g.limiter.inFlight.Load()), Slots: g.limiter.n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}
