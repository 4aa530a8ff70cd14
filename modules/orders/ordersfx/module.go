// Package ordersfx wires the orders module into an fx app. It sits beside
// the contract because the implementation imports the contract, and Go
// forbids the cycle back.
package ordersfx

import (
	"log/slog"

	"go.uber.org/fx"

	"mitosis/modules/inventory"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/orders/internal/httpapi"
	"mitosis/modules/orders/internal/store"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// Spec describes the orders module for both placements. orders calls
// users, inventory and payments, so each must be local or have a URL.
var Spec = topology.Spec{
	Name:      "orders",
	OpenAPI:   orders.OpenAPI,
	DependsOn: []string{"users", "payments", inventory.Name},
	Publishes: []string{orders.EventOrderPlaced, orders.EventOrderConfirmed, orders.EventOrderCancelled},
	Routes:    []string{"/api/v1/products", "/api/v1/orders"},
	Settings:  app.Section("orders"),
	// The console's Sagas panel, gathered from wherever orders runs.
	AdminParts: []string{httpapi.SagasPart},
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule("orders"),
			store.New,
			func(c config.Config) app.Settings { return config.SectionOf[app.Settings](c, "orders") },
			func(u users.Service) app.Customers { return u },
			func(p payments.Service) app.Wallets { return p },
			func(i inventory.Service) app.Stock { return i },
			app.NewMetrics,
			func(log *slog.Logger, m *app.Metrics) app.Telemetry { return app.Telemetry{Log: log, Metrics: m} },
			func(st *store.Store, c app.Customers, w app.Wallets, i app.Stock, cfg app.Settings, tel app.Telemetry, t *telemetry.Tracing) *app.Service {
				return app.New(st, c, w, i, cfg, tel).Traced(t.Tracer("orders"))
			},
			app.NewWorker,
		),
		fx.Provide(func(s *app.Service, reg *contract.Registry) orders.Service { return httpapi.API.Local(s, reg) }),
		fx.Invoke(httpapi.Mount),
		fx.Invoke(httpapi.MountSagas),
		fx.Invoke(func(lc fx.Lifecycle, w *app.Worker) { lc.Append(fx.StartStopHook(w.Start, w.Stop)) }),
		events.Outbox("orders"),
	),
	Remote:   httpapi.API.RemoteOption(),
	Contract: httpapi.API,
}
