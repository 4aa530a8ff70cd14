// Package modules lists every module this binary knows, in start order.
package modules

import (
	"mitosis/modules/gateway/gatewayfx"
	"mitosis/modules/orders/ordersfx"
	"mitosis/modules/payments/paymentsfx"
	"mitosis/modules/users/usersfx"
	"mitosis/platform/topology"
)

// All returns the specs of every module; the gateway last, as it serves
// what the others leave to it.
func All() []topology.Spec {
	return []topology.Spec{usersfx.Spec, paymentsfx.Spec, ordersfx.Spec, gatewayfx.Spec}
}

// Names returns the names of every module.
func Names() []string {
	var names []string
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return names
}
