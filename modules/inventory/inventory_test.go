package inventory_test

import (
	"testing"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/inventorytest"
	"mitosis/modules/modulestest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestContract runs the contract suite on the local implementation and on
// the HTTP client against the real handlers on loopback.
func TestContract(t *testing.T) {
	env := map[string]string{
		// Only inventory: it calls no other module.
		"SERVICES": "inventory",
	}
	var local inventory.Service
	p := modulestest.Start(t, env, &local)

	t.Run("in-process", func(t *testing.T) { inventorytest.Run(t, local) })
	t.Run("http", func(t *testing.T) {
		var remote inventory.Service
		modulestest.Clients(t, map[string]string{inventory.Name: p.URL}, &remote)
		inventorytest.Run(t, remote)
	})
}
