package health

import (
	"context"
	"sort"
	"sync"
	"time"
)

// remote is a remote module this process calls, and the monitor's last
// word on it.
type remote struct {
	module, url string
	probe       Check
	breaker     func() string // nil: no breaker shown

	mu      sync.Mutex
	status  string // Up, Down or Unknown
	err     string
	checked time.Time
}

// Remote is the monitor's last result for one remote module.
type Remote struct {
	Module string
	URL    string
	// Status is up, down, or unknown before the first check.
	Status    string
	Error     string
	CheckedAt time.Time // zero before the first check
	// Breaker is this process's breaker for the module ("" if none).
	Breaker string
}

// AddRemote registers a remote module for the monitor: probe asks its
// readiness, breaker (may be nil) reads this process's breaker for it. A
// module registered twice keeps its first registration: every client of
// one module shares its breaker.
func (r *Registry) AddRemote(module, url string, probe Check, breaker func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.remotes[module]; ok {
		return
	}
	r.remotes[module] = &remote{module: module, url: url, probe: probe, breaker: breaker, status: Unknown}
}

// Remotes lists the monitor's last results, by module name.
func (r *Registry) Remotes() []Remote {
	r.mu.Lock()
	all := make([]*remote, 0, len(r.remotes))
	for _, rm := range r.remotes {
		all = append(all, rm)
	}
	r.mu.Unlock()
	out := make([]Remote, 0, len(all))
	for _, rm := range all {
		out = append(out, rm.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}

// Remote returns the monitor's last result for module.
func (r *Registry) Remote(module string) (Remote, bool) {
	r.mu.Lock()
	rm, ok := r.remotes[module]
	r.mu.Unlock()
	if !ok {
		return Remote{}, false
	}
	return rm.snapshot(), true
}

func (rm *remote) snapshot() Remote {
	rm.mu.Lock()
	out := Remote{Module: rm.module, URL: rm.url, Status: rm.status, Error: rm.err, CheckedAt: rm.checked}
	rm.mu.Unlock()
	if rm.breaker != nil {
		out.Breaker = rm.breaker()
	}
	return out
}

// ProbeRemotes checks every remote module once, concurrently, each within
// checkTimeout, and keeps the results. A round cut short by ctx (the
// monitor stopping) keeps the previous results.
func (r *Registry) ProbeRemotes(ctx context.Context) {
	r.mu.Lock()
	all := make([]*remote, 0, len(r.remotes))
	for _, rm := range r.remotes {
		all = append(all, rm)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, rm := range all {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, checkTimeout)
			err := rm.probe(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			r.record(rm, err)
		})
	}
	wg.Wait()
}

func (r *Registry) record(rm *remote, err error) {
	status, msg := Up, ""
	if err != nil {
		status, msg = Down, err.Error()
	}
	rm.mu.Lock()
	was := rm.status
	rm.status, rm.err, rm.checked = status, msg, time.Now()
	rm.mu.Unlock()
	if r.log == nil || was == status {
		return
	}
	if status == Down {
		r.log.Warn("remote module unhealthy", "remote", rm.module, "was", was, "err", msg)
	} else {
		r.log.Info("remote module healthy", "remote", rm.module, "was", was)
	}
}

// Monitor checks every remote module at start and every interval until
// stopped. Rounds never overlap: the next waits for the one in flight,
// and ticks missed meanwhile are dropped.
type Monitor struct {
	r        *Registry
	interval time.Duration
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// Monitor returns the monitor of r's remote modules.
func (r *Registry) Monitor(interval time.Duration) *Monitor {
	return &Monitor{r: r, interval: interval}
}

// Start runs the first round at once, in the background, and the next
// ones every interval.
func (m *Monitor) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done.Go(func() {
		tick := time.NewTicker(m.interval)
		defer tick.Stop()
		for {
			m.r.ProbeRemotes(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// Stop ends the monitor and waits for the round in flight, whose probes
// are cut short.
func (m *Monitor) Stop() {
	if m.cancel != nil {
		m.cancel()
		m.done.Wait()
	}
}
