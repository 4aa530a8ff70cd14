package health

import (
	"context"
	"sort"
	"time"
)

// Report is the breakdown of /health: the process's status, build and
// uptime, and every local module with its checks.
type Report struct {
	// Status is healthy, degraded or unhealthy: the worst module's.
	Status  string `json:"status"`
	Version string `json:"version"`
	// Uptime is in whole seconds since the process started.
	Uptime    int64     `json:"uptime"`
	Timestamp time.Time `json:"timestamp"`
	// Draining is set once the process is on its way out (unready).
	Draining bool           `json:"draining,omitempty"`
	Modules  []ModuleReport `json:"modules"`
}

// ModuleReport is one local module and its checks.
type ModuleReport struct {
	Name   string `json:"name"`
	Status string `json:"status"` // healthy, degraded or unhealthy
	Checks []Item `json:"checks"`
}

// Item is one check's outcome: a part of the module (database,
// migrations, broker, ...) or a remote module it calls.
type Item struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // module, optional or dependency
	// Status is up or down; a dependency not checked yet is unknown.
	Status string `json:"status"`
	// Breaker is this process's circuit breaker for a dependency: closed,
	// open or half-open.
	Breaker string `json:"breaker,omitempty"`
	// CheckedAt is when the monitor last checked a dependency.
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	// Error and URL are detail for operators: never in a public answer.
	Error string `json:"error,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Detail is the whole report, errors and URLs included: for the admin
// listener only.
func (r *Registry) Detail(ctx context.Context) Report {
	locals := r.local(ctx)
	r.mu.Lock()
	calls := make(map[string][]string, len(r.calls))
	for m, deps := range r.calls {
		calls[m] = deps
	}
	fronts := make(map[string]bool, len(r.fronts))
	for m := range r.fronts {
		fronts[m] = true
	}
	r.mu.Unlock()

	byModule := map[string][]Item{}
	for m := range calls {
		byModule[m] = []Item{}
	}
	for _, res := range locals {
		it := Item{Name: res.name, Kind: res.kind, Status: Up}
		if res.err != nil {
			it.Status, it.Error = Down, res.err.Error()
		}
		byModule[res.module] = append(byModule[res.module], it)
	}
	for m, deps := range calls {
		for _, dep := range deps {
			byModule[m] = append(byModule[m], r.dependency(dep))
		}
	}
	now := time.Now()
	rep := Report{Status: Healthy, Version: r.version, Uptime: int64(now.Sub(r.started) / time.Second),
		Timestamp: now.UTC(), Draining: r.Draining(), Modules: []ModuleReport{}}
	for name, items := range byModule {
		mr := ModuleReport{Name: name, Checks: items, Status: moduleStatus(items, fronts[name])}
		rep.Modules = append(rep.Modules, mr)
		rep.Status = worse(rep.Status, mr.Status)
	}
	sort.Slice(rep.Modules, func(i, j int) bool { return rep.Modules[i].Name < rep.Modules[j].Name })
	return rep
}

// Public is the report without errors and URLs.
func (r *Registry) Public(ctx context.Context) Report {
	rep := r.Detail(ctx)
	for i := range rep.Modules {
		for j := range rep.Modules[i].Checks {
			rep.Modules[i].Checks[j].Error, rep.Modules[i].Checks[j].URL = "", ""
		}
	}
	return rep
}

// dependency is the monitor's last result for a remote module as an item;
// one nobody registered (no client) is unknown.
func (r *Registry) dependency(module string) Item {
	it := Item{Name: module, Kind: KindDependency, Status: Unknown}
	rm, ok := r.Remote(module)
	if !ok {
		return it
	}
	it.Status, it.Error, it.URL, it.Breaker = rm.Status, rm.Error, rm.URL, rm.Breaker
	if !rm.CheckedAt.IsZero() {
		at := rm.CheckedAt.UTC()
		it.CheckedAt = &at
	}
	return it
}

// moduleStatus: a part down is unhealthy; a dependency down, unknown or
// behind a breaker that is not closed, or an optional part down, is
// degraded, unless the module fronts its dependencies, for which a
// dependency down is unhealthy.
func moduleStatus(items []Item, fronts bool) string {
	status := Healthy
	for _, it := range items {
		switch {
		case it.Kind == KindModule && it.Status != Up:
			status = worse(status, Unhealthy)
		case it.Kind == KindDependency && it.Status == Down && fronts:
			status = worse(status, Unhealthy)
		case it.Status != Up:
			status = worse(status, Degraded)
		case it.Kind == KindDependency && it.Breaker != "" && it.Breaker != "closed":
			status = worse(status, Degraded)
		}
	}
	return status
}

// OwnStatus is a module's status from its own parts alone, its
// dependencies left out (a listing that shows them on their own).
func (m ModuleReport) OwnStatus() string {
	var own []Item
	for _, it := range m.Checks {
		if it.Kind != KindDependency {
			own = append(own, it)
		}
	}
	return moduleStatus(own, false)
}

var rank = map[string]int{Healthy: 0, Degraded: 1, Unhealthy: 2}

// worse returns the worse of two statuses.
func worse(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Worse returns the worse of two statuses (healthy < degraded < unhealthy).
func Worse(a, b string) string { return worse(a, b) }
