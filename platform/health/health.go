// Package health answers liveness and readiness: each local module adds its
// own checks (its database), each remote dependency adds one (its liveness).
package health

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// checkTimeout bounds one check so a hung dependency cannot hang readiness.
const checkTimeout = 2 * time.Second

// Kinds of checks.
const (
	KindModule     = "module"
	KindDependency = "dependency"
)

// Check reports nil when the thing it checks is usable.
type Check func(ctx context.Context) error

// Registry holds the checks of this process.
type Registry struct {
	mu       sync.Mutex
	checks   []named
	breakers map[string]func() string
}

type named struct {
	name, kind string
	check      Check
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Add registers a check: name is the module, kind says whether it runs here.
func (r *Registry) Add(name, kind string, check Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, named{name, kind, check})
}

// AddBreaker shows the circuit breaker state of the dependency name next
// to its liveness. An open breaker alone does not make the process unready:
// liveness says whether the dependency answers, the breaker whether this
// process is still sending it calls.
func (r *Registry) AddBreaker(name string, state func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.breakers == nil {
		r.breakers = map[string]func() string{}
	}
	r.breakers[name] = state
}

// Status is one check's outcome.
type Status struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Breaker string `json:"breaker,omitempty"` // closed, open or half-open
}

// Report is the breakdown served at /health.
type Report struct {
	Status  string   `json:"status"`
	Modules []Status `json:"modules"`
	Deps    []Status `json:"dependencies"`
}

// Run executes every check concurrently.
func (r *Registry) Run(ctx context.Context) Report {
	r.mu.Lock()
	checks := append([]named(nil), r.checks...)
	breakers := make(map[string]func() string, len(r.breakers))
	for name, state := range r.breakers {
		breakers[name] = state
	}
	r.mu.Unlock()
	results := make([]Status, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			results[i] = Status{Name: c.name, Kind: c.kind, Status: "up"}
			if err := c.check(cctx); err != nil {
				results[i].Status, results[i].Error = "down", err.Error()
			}
			if state := breakers[c.name]; state != nil && c.kind == KindDependency {
				results[i].Breaker = state()
			}
		})
	}
	wg.Wait()
	sort.SliceStable(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	rep := Report{Status: "up", Modules: []Status{}, Deps: []Status{}}
	for _, s := range results {
		if s.Status != "up" {
			rep.Status = "down"
		}
		if s.Kind == KindModule {
			rep.Modules = append(rep.Modules, s)
		} else {
			rep.Deps = append(rep.Deps, s)
		}
	}
	return rep
}

// Mount serves /health/live, /health/ready and /health.
func (r *Registry) Mount(e *echo.Echo) {
	e.GET("/health/live", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "up"})
	})
	e.GET("/health/ready", func(c echo.Context) error {
		rep := r.Run(c.Request().Context())
		return c.JSON(statusCode(rep), map[string]string{"status": rep.Status})
	})
	e.GET("/health", func(c echo.Context) error {
		rep := r.Run(c.Request().Context())
		return c.JSON(statusCode(rep), rep)
	})
}

func statusCode(rep Report) int {
	if rep.Status == "up" {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}
