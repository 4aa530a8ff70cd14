// Package ordersfx wires the orders module into an fx app. It sits beside
// the contract because the implementation imports the contract, and Go
// forbids the cycle back.
package ordersfx

import (
	"go.uber.org/fx"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/orders/internal/httpapi"
	"mitosis/modules/orders/internal/store"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// Module describes the orders module for both placements. orders calls
// users and payments, so both must be local or have a URL.
var Module = topology.Spec{
	Name:      "orders",
	DependsOn: []string{"users", "payments"},
	Publishes: []string{orders.EventOrderPlaced, orders.EventOrderConfirmed, orders.EventOrderCancelled},
	Routes:    []string{"/api/v1/products", "/api/v1/orders"},
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule("orders"),
			store.New,
			app.New,
		),
		fx.Provide(func(s *app.Service) orders.Service { return s }),
		fx.Invoke(httpapi.Mount),
		events.Outbox("orders"),
	),
	Remote: topology.Remote("orders", orders.Errors, func(c *transport.Client) orders.Service {
		return httpapi.NewClient(c)
	}),
}
