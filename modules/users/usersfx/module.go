// Package usersfx wires the users module into an fx app. It sits beside
// the contract rather than in it because the implementation imports the
// contract, and Go forbids the cycle back.
package usersfx

import (
	"go.uber.org/fx"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/httpapi"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// Module describes the users module for both placements.
var Module = topology.Spec{
	Name:       "users",
	Publishes:  []string{users.EventUserRegistered},
	Subscribes: []string{orders.EventOrderConfirmed, orders.EventOrderCancelled},
	Routes:     []string{"/api/v1/users", "/api/v1/auth", "/.well-known"},
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule("users"),
			store.New,
			app.New,
		),
		fx.Provide(func(s *app.Service) users.Service { return s }),
		fx.Invoke(httpapi.Mount),
		events.Outbox("users"),
		events.Subscriber("users", store.Handlers()),
	),
	Remote: topology.Remote("users", users.Errors, func(c *transport.Client) users.Service {
		return httpapi.NewClient(c)
	}),
}
