// Package inventoryfx wires the inventory module into an fx app. It sits beside
// the contract because the implementation imports the contract, and Go
// forbids the cycle back.
package inventoryfx

import (
	"go.uber.org/fx"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/internal/app"
	"mitosis/modules/inventory/internal/httpapi"
	"mitosis/modules/inventory/internal/store"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/topology"
)

// Spec describes the inventory module for both placements.
var Spec = topology.Spec{
	Name:    inventory.Name,
	OpenAPI: inventory.OpenAPI,
	Routes:  []string{"/api/v1/inventory"},
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule(inventory.Name),
			store.New,
			app.New,
		),
		fx.Provide(func(s *app.Service, reg *contract.Registry) inventory.Service { return httpapi.API.Local(s, reg) }),
		fx.Invoke(httpapi.Mount),
	),
	Remote:   httpapi.API.RemoteOption(),
	Contract: httpapi.API,
}
