// Package paymentsfx wires the payments module into an fx app. It sits
// beside the contract because the implementation imports the contract, and
// Go forbids the cycle back.
package paymentsfx

import (
	"go.uber.org/fx"

	"mitosis/modules/payments"
	"mitosis/modules/payments/internal/app"
	"mitosis/modules/payments/internal/httpapi"
	"mitosis/modules/payments/internal/store"
	"mitosis/modules/users"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/topology"
)

// Spec describes the payments module for both placements.
var Spec = topology.Spec{
	Name:       "payments",
	OpenAPI:    payments.OpenAPI,
	Publishes:  []string{payments.EventPaymentCaptured, payments.EventPaymentRefunded},
	Subscribes: []string{users.EventUserRegistered},
	Routes:     []string{"/api/v1/wallet", "/api/v1/payments"},
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule("payments"),
			store.New,
			app.New,
		),
		fx.Provide(func(s *app.Service, reg *contract.Registry) payments.Service { return httpapi.API.Local(s, reg) }),
		fx.Invoke(httpapi.Mount),
		events.Outbox("payments"),
		events.Subscriber("payments", store.Handlers()),
	),
	Remote:   httpapi.API.RemoteOption(),
	Contract: httpapi.API,
}
