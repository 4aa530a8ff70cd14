package e2e

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/modules/gateway"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
)

// orderDetails: where a gateway serves, the composed order has every part,
// an order without payment has none missing, and someone else's order is a 404.
func (s *session) orderDetails(t *testing.T) {
	if s.topo.gateway == "" {
		t.Skip("no gateway in this topology")
	}
	r := s.topo.get(t, "/api/v1/orders/"+s.paid.ID+"/details", s.alice.token)
	d := decode[gateway.OrderDetails](t, r, http.StatusOK)
	requireKeys(t, r, "order", "customer", "payment", "failures")
	require.Equal(t, s.paid.ID, d.Order.ID)
	require.NotNil(t, d.Customer)
	require.Equal(t, s.alice.user.ID, d.Customer.ID)
	require.NotNil(t, d.Payment)
	require.Equal(t, *s.paid.PaymentID, d.Payment.ID)
	require.Equal(t, payments.StatusCaptured, d.Payment.Status)
	require.Empty(t, d.Failures)

	d = decode[gateway.OrderDetails](t, s.topo.get(t, "/api/v1/orders/"+s.refused.ID+"/details", s.alice.token), http.StatusOK)
	require.Equal(t, orders.StatusCancelled, d.Order.Status)
	require.Nil(t, d.Payment, "a refused order has no payment")
	require.Empty(t, d.Failures)

	requireProblem(t, s.topo.get(t, "/api/v1/orders/"+s.paid.ID+"/details", s.bob.token), http.StatusNotFound, orders.ErrNotFound.Code)
	requireProblem(t, s.topo.get(t, "/api/v1/orders/"+uuid.NewString()+"/details", s.alice.token), http.StatusNotFound, orders.ErrNotFound.Code)
	requireProblem(t, s.topo.get(t, "/api/v1/orders/"+s.paid.ID+"/details", ""), http.StatusUnauthorized, "unauthorized")
}

// services: where a gateway serves, every module is listed, up, and where
// the topology put it.
func (s *session) services(t *testing.T) {
	if s.topo.gateway == "" {
		t.Skip("no gateway in this topology")
	}
	list := decode[gateway.ServiceList](t, s.topo.get(t, "/api/v1/services", ""), http.StatusOK)
	require.Equal(t, "healthy", list.Status)
	where := map[string]string{}
	for _, m := range list.Items {
		if m.Where != gateway.WhereUnused {
			require.Equal(t, "healthy", m.Health, m.Name)
		}
		where[m.Name] = m.Where
	}
	m := s.topo.gateway
	want := map[string]string{"users": m, "payments": m, "orders": m, "gateway": gateway.WhereLocal}
	// Modules the scenario does not use run where everything runs in one
	// process, and nowhere in its splits.
	for _, spec := range modules.All() {
		if _, ok := want[spec.Name]; !ok {
			want[spec.Name] = gateway.WhereUnused
			if m == gateway.WhereLocal {
				want[spec.Name] = gateway.WhereLocal
			}
		}
	}
	require.Equal(t, want, where)
}
