package topology

import (
	"go.uber.org/fx"

	"mitosis/platform/health"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// Remote provides a module's contract as an HTTP client at the module's
// configured URL, and adds the module's liveness to this process's
// readiness, with its circuit breaker's state. wrap turns the transport client into the contract type T.
func Remote[T any](name string, known []*problem.Error, wrap func(*transport.Client) T) fx.Option {
	return fx.Options(
		fx.Provide(func(p Placement, f *transport.Factory, checks *health.Registry) T {
			c := f.New(name, p.URL(name), known...)
			checks.Add(name, health.KindDependency, c.Ping)
			checks.AddBreaker(name, c.CircuitState)
			return wrap(c)
		}),
		fx.Invoke(func(T) {}),
	)
}
