package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
)

func (s *session) invalidOrder(t *testing.T) {
	r := s.topo.post(t, "/api/v1/orders", s.alice.token, map[string]any{"items": []orders.Item{}})
	requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed", "items")
	r = s.topo.post(t, "/api/v1/orders", s.alice.token, map[string]any{"items": []orders.Item{{SKU: "NO-SUCH-SKU", Quantity: 1}, {SKU: s.catalog[0].SKU, Quantity: 0}}})
	requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed", "items[1].quantity")
	r = s.topo.post(t, "/api/v1/orders", s.alice.token, map[string]any{"items": []orders.Item{{SKU: "NO-SUCH-SKU", Quantity: 1}}})
	requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed", "items[0].sku")
	r = s.topo.post(t, "/api/v1/orders", "", map[string]any{"items": []orders.Item{{SKU: s.catalog[0].SKU, Quantity: 1}}})
	requireProblem(t, r, http.StatusUnauthorized, "unauthorized")
	s.requireBalance(t, s.alice, depositCents)
}

// placeOrder buys two of the cheapest product and one of the next.
func (s *session) placeOrder(t *testing.T) {
	byPrice := slices.Clone(s.catalog)
	slices.SortFunc(byPrice, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	s.orderItems = []orders.Item{{SKU: byPrice[0].SKU, Quantity: 2}, {SKU: byPrice[1].SKU, Quantity: 1}}
	total := 2*byPrice[0].PriceCents + byPrice[1].PriceCents
	require.LessOrEqual(t, total, int64(depositCents), "the cheapest products must fit the deposit")
	s.orderKey = uuid.NewString()

	r := s.placeWithKey(t, s.orderKey, s.orderItems)
	o := decode[orders.Order](t, r, http.StatusCreated)
	requireKeys(t, r, "id", "customer_id", "status", "total_cents", "items", "payment_id", "failure_reason", "created_at", "updated_at")
	require.NoError(t, uuid.Validate(o.ID))
	require.Equal(t, s.alice.user.ID, o.CustomerID)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	require.Equal(t, total, o.TotalCents)
	require.NotNil(t, o.PaymentID)
	require.Nil(t, o.FailureReason)
	require.Len(t, o.Items, 2)
	for i, it := range o.Items {
		require.Equal(t, byPrice[i].SKU, it.SKU)
		require.Equal(t, byPrice[i].PriceCents, it.UnitPriceCents)
		require.Equal(t, it.UnitPriceCents*int64(it.Quantity), it.LineTotalCents)
	}
	s.paid = o
	s.requireBalance(t, s.alice, depositCents-total)
}

func (s *session) placeWithKey(t *testing.T, key string, items []orders.Item) response {
	t.Helper()
	return s.topo.do(t, request{
		method: http.MethodPost, path: "/api/v1/orders", token: s.alice.token,
		body: map[string]any{"items": items}, header: map[string]string{"Idempotency-Key": key},
	})
}

func (s *session) replayOrder(t *testing.T) {
	again := decode[orders.Order](t, s.placeWithKey(t, s.orderKey, s.orderItems), http.StatusCreated)
	require.Equal(t, s.paid.ID, again.ID)
	require.Equal(t, orders.StatusConfirmed, again.Status)
	require.Equal(t, *s.paid.PaymentID, *again.PaymentID)
	s.requireBalance(t, s.alice, depositCents-s.paid.TotalCents)
}

func (s *session) conflictingKey(t *testing.T) {
	other := []orders.Item{{SKU: s.orderItems[0].SKU, Quantity: 3}}
	requireProblem(t, s.placeWithKey(t, s.orderKey, other), http.StatusConflict, orders.ErrIdempotencyConflict.Code)
	s.requireBalance(t, s.alice, depositCents-s.paid.TotalCents)
}

// orderBeyondBalance asks for more than the wallet holds. In the split
// topologies payments answers the charge over HTTP, so the order is only
// cancelled for insufficient funds if the client decoded the problem+json
// back into payments.ErrInsufficientFunds.
func (s *session) orderBeyondBalance(t *testing.T) {
	balance := int64(depositCents) - s.paid.TotalCents
	priciest := slices.MaxFunc(s.catalog, func(a, b orders.Product) int { return int(a.PriceCents - b.PriceCents) })
	qty := int(balance/priciest.PriceCents) + 1
	r := s.placeWithKey(t, uuid.NewString(), []orders.Item{{SKU: priciest.SKU, Quantity: qty}})
	o := decode[orders.Order](t, r, http.StatusCreated)
	require.Equal(t, orders.StatusCancelled, o.Status)
	require.NotNil(t, o.FailureReason)
	require.Equal(t, orders.ReasonInsufficientFunds, *o.FailureReason)
	require.Nil(t, o.PaymentID)
	require.Equal(t, priciest.PriceCents*int64(qty), o.TotalCents)
	s.refused = o
	s.requireBalance(t, s.alice, balance)
}

func (s *session) getOrder(t *testing.T) {
	o := decode[orders.Order](t, s.topo.get(t, "/api/v1/orders/"+s.paid.ID, s.alice.token), http.StatusOK)
	require.Equal(t, s.paid.ID, o.ID)
	require.Equal(t, s.paid.Status, o.Status)
	require.Equal(t, s.paid.TotalCents, o.TotalCents)
	require.Equal(t, s.paid.Items, o.Items)

	requireProblem(t, s.topo.get(t, "/api/v1/orders/"+s.paid.ID, s.bob.token), http.StatusNotFound, orders.ErrNotFound.Code)
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		requireProblem(t, s.topo.get(t, "/api/v1/orders/"+id, s.alice.token), http.StatusNotFound, orders.ErrNotFound.Code)
	}
}

func (s *session) orderHistory(t *testing.T) {
	for o, want := range map[*orders.Order][]string{
		&s.paid:    {"check_customer succeeded", "reserve_stock succeeded", "charge succeeded", "confirm succeeded"},
		&s.refused: {"check_customer succeeded", "reserve_stock succeeded", "charge failed", "void_charge succeeded", "release_stock succeeded", "cancel succeeded"},
	} {
		r := s.topo.get(t, "/api/v1/orders/"+o.ID+"/history", s.alice.token)
		h := decode[orders.OrderHistory](t, r, http.StatusOK)
		requireKeys(t, r, "order_id", "status", "next_step", "steps")
		require.Equal(t, o.ID, h.OrderID)
		require.Equal(t, o.Status, h.Status)
		require.Nil(t, h.NextStep)
		var got []string
		for _, st := range h.Steps {
			got = append(got, st.Step+" "+st.Outcome)
		}
		require.Equal(t, want, got)
	}
	requireProblem(t, s.topo.get(t, "/api/v1/orders/"+s.paid.ID+"/history", s.bob.token), http.StatusNotFound, orders.ErrNotFound.Code)
}

func (s *session) listOrders(t *testing.T) {
	r := s.topo.get(t, "/api/v1/orders?limit=1", s.alice.token)
	first := decode[orders.OrderPage](t, r, http.StatusOK)
	requireKeys(t, r, "items", "next_cursor")
	require.Len(t, first.Items, 1)
	require.Equal(t, s.refused.ID, first.Items[0].ID, "newest first")
	require.NotEmpty(t, first.NextCursor)

	second := decode[orders.OrderPage](t, s.topo.get(t, "/api/v1/orders?limit=1&cursor="+first.NextCursor, s.alice.token), http.StatusOK)
	require.Len(t, second.Items, 1)
	require.Equal(t, s.paid.ID, second.Items[0].ID)
	require.Empty(t, second.NextCursor, "alice has two orders")

	r = s.topo.get(t, "/api/v1/orders", s.bob.token)
	none := decode[orders.OrderPage](t, r, http.StatusOK)
	require.Empty(t, none.Items)
	requireKeys(t, r, "items")
	require.JSONEq(t, `{"items": []}`, string(r.body), "an empty page is an empty array")

	requireProblem(t, s.topo.get(t, "/api/v1/orders?limit=abc", s.alice.token), http.StatusBadRequest, "bad_request", "limit")
	requireProblem(t, s.topo.get(t, "/api/v1/orders?limit=101", s.alice.token), http.StatusUnprocessableEntity, "validation_failed", "limit")
	requireProblem(t, s.topo.get(t, "/api/v1/orders?cursor=bogus", s.alice.token), http.StatusUnprocessableEntity, "validation_failed", "cursor")
}

func (s *session) paymentsOfOrder(t *testing.T) {
	pid := *s.paid.PaymentID
	r := s.topo.get(t, "/api/v1/payments/"+pid, s.alice.token)
	p := decode[payments.Payment](t, r, http.StatusOK)
	requireKeys(t, r, "id", "user_id", "order_id", "amount_cents", "status", "created_at", "refunded_at")
	require.Equal(t, pid, p.ID)
	require.Equal(t, s.alice.user.ID, p.UserID)
	require.Equal(t, s.paid.ID, p.OrderID)
	require.Equal(t, s.paid.TotalCents, p.AmountCents)
	require.Equal(t, payments.StatusCaptured, p.Status)
	require.Nil(t, p.RefundedAt)

	list := decode[payments.PaymentList](t, s.topo.get(t, "/api/v1/payments?order_id="+s.paid.ID, s.alice.token), http.StatusOK)
	require.Len(t, list.Items, 1, "the replayed order was charged once")
	require.Equal(t, pid, list.Items[0].ID)
	all := decode[payments.PaymentList](t, s.topo.get(t, "/api/v1/payments", s.alice.token), http.StatusOK)
	require.Len(t, all.Items, 1, "the refused order has no payment")

	requireProblem(t, s.topo.get(t, "/api/v1/payments/"+pid, s.bob.token), http.StatusNotFound, payments.ErrNotFound.Code)
	theirs := decode[payments.PaymentList](t, s.topo.get(t, "/api/v1/payments?order_id="+s.paid.ID, s.bob.token), http.StatusOK)
	require.Empty(t, theirs.Items)
}

func (s *session) cancelOrder(t *testing.T) {
	path := "/api/v1/orders/" + s.paid.ID + "/cancel"
	requireProblem(t, s.topo.post(t, path, s.bob.token, nil), http.StatusNotFound, orders.ErrNotFound.Code)
	s.requireBalance(t, s.alice, depositCents-s.paid.TotalCents)

	for range 2 {
		o := decode[orders.Order](t, s.topo.post(t, path, s.alice.token, nil), http.StatusOK)
		require.Equal(t, s.paid.ID, o.ID)
		require.Equal(t, orders.StatusCancelled, o.Status)
		require.NotNil(t, o.FailureReason)
		require.Equal(t, orders.ReasonCancelledByUser, *o.FailureReason)
		s.requireBalance(t, s.alice, depositCents)
	}
	p := decode[payments.Payment](t, s.topo.get(t, "/api/v1/payments/"+*s.paid.PaymentID, s.alice.token), http.StatusOK)
	require.Equal(t, payments.StatusRefunded, p.Status)
	require.NotNil(t, p.RefundedAt)

	refused := decode[orders.Order](t, s.topo.post(t, "/api/v1/orders/"+s.refused.ID+"/cancel", s.alice.token, nil), http.StatusOK)
	require.Equal(t, orders.StatusCancelled, refused.Status)
	require.NotNil(t, refused.FailureReason)
	require.Equal(t, orders.ReasonInsufficientFunds, *refused.FailureReason, "cancelling again keeps the first reason")
	s.requireBalance(t, s.alice, depositCents)
}

// orderStats: users keeps each customer's order statistics from the order
// events, whichever process publishes them; /users/me eventually shows the
// confirmed orders, the cancelled one taken back out.
func (s *session) orderStats(t *testing.T) {
	// The scenario's paid order was confirmed then cancelled; one more
	// confirmed order makes the expected statistics non-zero.
	o := decode[orders.Order](t, s.placeWithKey(t, uuid.NewString(), s.orderItems), http.StatusCreated)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	page := decode[orders.OrderPage](t, s.topo.get(t, "/api/v1/orders?limit=100", s.alice.token), http.StatusOK)
	require.Empty(t, page.NextCursor)
	var want users.OrderStats
	for _, o := range page.Items {
		if o.Status == orders.StatusConfirmed {
			want.OrdersConfirmed++
			want.TotalSpentCents += o.TotalCents
		}
	}
	require.Equal(t, users.OrderStats{OrdersConfirmed: 1, TotalSpentCents: o.TotalCents}, want)
	var got users.Me
	require.Eventually(t, func() bool {
		got = decode[users.Me](t, s.topo.get(t, "/api/v1/users/me", s.alice.token), http.StatusOK)
		return got.Stats == want
	}, 10*time.Second, 20*time.Millisecond, "stats %+v, want %+v", &got.Stats, want)
	require.Equal(t, s.alice.user.ID, got.ID)
}
