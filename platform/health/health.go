// Package health says what a load balancer and a monitor each need to
// know about this process:
//
//   - /health/live: the process runs (always 200 while it answers).
//   - /health/ready: this process can do its own work: every part of its
//     local modules answers (databases, migrations applied, the broker).
//     A remote module being down does not make its callers unready: the
//     breakers and the saga handle that, and failing readiness would take
//     every caller out of rotation at once. Drain turns it to 503 for a
//     process on its way out.
//   - /health: every local module with its checks, and each remote module
//     it calls with this process's breaker; healthy (200), degraded (202:
//     a remote dependency or an optional part is down) or unhealthy (503).
//
// Remote modules are never probed per request: a monitor checks each
// one's /health/ready at start and every HEALTH_MONITOR_INTERVAL, and
// answers use its last results. Local checks run at most once a second,
// whoever asks, so a flood of probes cannot take the pool's connections.
//
// Public answers carry statuses only; errors and URLs, which can name
// internal addresses, roles and drivers, are in Detail, which the admin
// listener serves.
package health

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// checkTimeout bounds one check so a hung dependency cannot hang an answer.
const checkTimeout = 2 * time.Second

// defaultFreshness is how long local results are reused.
const defaultFreshness = time.Second

// Kinds of checks.
const (
	// KindModule is a part a local module needs to work: down makes the
	// process unready and unhealthy.
	KindModule = "module"
	// KindOptional is a part whose loss only degrades the module.
	KindOptional = "optional"
	// KindDependency is a remote module a local one calls: down degrades
	// the caller (or, for a module that fronts its dependencies, makes it
	// unhealthy), never unready.
	KindDependency = "dependency"
)

// Statuses of a check.
const (
	Up      = "up"
	Down    = "down"
	Unknown = "unknown" // a remote module not checked yet
)

// Statuses of a module and of the process.
const (
	Healthy   = "healthy"
	Degraded  = "degraded"
	Unhealthy = "unhealthy"
)

// Readiness answers beside Up and Down.
const Draining = "draining"

// Check reports nil when the thing it checks is usable.
type Check func(ctx context.Context) error

// Registry holds the checks of this process and the monitor's results.
type Registry struct {
	version string
	started time.Time
	fresh   time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	checks  []check            // local parts, in registration order
	remotes map[string]*remote // by module
	calls   map[string][]string
	fronts  map[string]bool
	gen     int // bumped by Add, so a new check is not hidden by the cache

	draining atomic.Bool

	runs     singleflight.Group
	cacheMu  sync.Mutex
	cached   []result
	cachedAt time.Time
	cacheGen int
}

type check struct {
	module, name, kind string
	run                Check
}

// Option configures a Registry.
type Option func(*Registry)

// Version names the running build in /health.
func Version(v string) Option { return func(r *Registry) { r.version = v } }

// Freshness sets how long local results are reused (0: never).
func Freshness(d time.Duration) Option { return func(r *Registry) { r.fresh = d } }

// Logger receives the monitor's changes of a remote module's status.
func Logger(log *slog.Logger) Option { return func(r *Registry) { r.log = log } }

// NewRegistry returns an empty registry; the process's uptime counts from
// here.
func NewRegistry(opts ...Option) *Registry {
	r := &Registry{version: "dev", started: time.Now(), fresh: defaultFreshness,
		remotes: map[string]*remote{}, calls: map[string][]string{}, fronts: map[string]bool{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Add registers a part of a local module it cannot work without (its
// database, its migrations, the broker), under name; a second check of
// the same name replaces the first.
func (r *Registry) Add(module, name string, c Check) { r.add(module, name, KindModule, c) }

// AddOptional registers a part whose loss degrades the module but leaves
// the process ready.
func (r *Registry) AddOptional(module, name string, c Check) { r.add(module, name, KindOptional, c) }

func (r *Registry) add(module, name, kind string, c Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	for i, old := range r.checks {
		if old.module == module && old.name == name {
			r.checks[i] = check{module: module, name: name, kind: kind, run: c}
			return
		}
	}
	r.checks = append(r.checks, check{module: module, name: name, kind: kind, run: c})
	if _, ok := r.calls[module]; !ok {
		r.calls[module] = nil
	}
}

// Local declares a local module and the remote modules it calls, so the
// module is listed even without checks of its own and each remote one is
// shown under it.
func (r *Registry) Local(module string, calls ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := append(r.calls[module], calls...)
	sort.Strings(all)
	r.calls[module] = dedupe(all)
}

// Fronts marks a local module whose remote dependencies are its product
// (the gateway serves their routes): one of them unhealthy makes the
// module, and the process, unhealthy rather than degraded. Readiness is
// unchanged.
func (r *Registry) Fronts(module string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fronts[module] = true
}

// Drain makes the process unready from now on (503 draining), while it
// finishes what it serves before it stops; liveness and /health stay.
func (r *Registry) Drain() { r.draining.Store(true) }

// Draining reports whether Drain was called.
func (r *Registry) Draining() bool { return r.draining.Load() }

// result is one local check's outcome.
type result struct {
	check
	err error
}

// local runs every local check concurrently, or returns the results of a
// run less than the freshness old; concurrent callers share one run.
func (r *Registry) local(ctx context.Context) []result {
	r.mu.Lock()
	gen := r.gen
	r.mu.Unlock()
	r.cacheMu.Lock()
	if r.cached != nil && r.cacheGen == gen && time.Since(r.cachedAt) < r.fresh {
		out := r.cached
		r.cacheMu.Unlock()
		return out
	}
	r.cacheMu.Unlock()
	v, _, _ := r.runs.Do("local", func() (any, error) {
		out := r.runLocal(context.WithoutCancel(ctx))
		r.cacheMu.Lock()
		r.cached, r.cachedAt, r.cacheGen = out, time.Now(), gen
		r.cacheMu.Unlock()
		return out, nil
	})
	return v.([]result)
}

func (r *Registry) runLocal(ctx context.Context) []result {
	r.mu.Lock()
	checks := append([]check(nil), r.checks...)
	r.mu.Unlock()
	out := make([]result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			out[i] = result{check: c, err: c.run(cctx)}
		})
	}
	wg.Wait()
	return out
}

// Ready reports whether every part of the local modules is up and the
// process is not draining, and the readiness answer: up, down or draining.
func (r *Registry) Ready(ctx context.Context) (bool, string) {
	if r.Draining() {
		return false, Draining
	}
	for _, res := range r.local(ctx) {
		if res.kind == KindModule && res.err != nil {
			return false, Down
		}
	}
	return true, Up
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
