package orderstest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
)

// steps returns the order's history as "step outcome" lines, after
// checking what every entry has.
func (s *suite) steps(t *testing.T, o orders.Order) []string {
	t.Helper()
	h, err := s.Orders.GetOrderHistory(s.ctx, orders.GetOrderRequest{CustomerID: o.CustomerID, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o.ID, h.OrderID)
	var out []string
	for i, st := range h.Steps {
		assert.Equal(t, i+1, st.Seq)
		assert.WithinDuration(t, time.Now(), st.At, time.Minute)
		out = append(out, st.Step+" "+st.Outcome)
	}
	if h.Status != orders.StatusPending {
		assert.Nil(t, h.NextStep, "a settled order has no next step")
	}
	return out
}

func (s *suite) testHistoryConfirmed(t *testing.T) {
	items := []orders.Item{s.item(4, 1)}
	s.fund(t, s.alice, s.total(items...))
	o := s.place(t, s.alice, "", items...)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge succeeded", "confirm succeeded"}, s.steps(t, o))

	h, err := s.Orders.GetOrderHistory(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, orders.StatusConfirmed, h.Status)
	assert.Equal(t, "payment "+*o.PaymentID, h.Steps[2].Detail)

	_, err = s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge succeeded", "confirm succeeded",
		"refund succeeded", "release_stock succeeded", "cancel succeeded"}, s.steps(t, o))
}

func (s *suite) testHistoryCompensated(t *testing.T) {
	o := s.place(t, s.alice, "", s.tooExpensive(t, s.alice))
	require.Equal(t, orders.StatusCancelled, o.Status)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge failed", "void_charge succeeded",
		"release_stock succeeded", "cancel succeeded"}, s.steps(t, o))
	h, err := s.Orders.GetOrderHistory(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, orders.ReasonInsufficientFunds, h.Steps[5].Detail)
}

func (s *suite) testHistoryOfOthers(t *testing.T) {
	items := []orders.Item{s.item(4, 1)}
	s.fund(t, s.alice, s.total(items...))
	o := s.place(t, s.alice, "", items...)
	for _, in := range []orders.GetOrderRequest{
		{CustomerID: s.bob, OrderID: o.ID},
		{CustomerID: s.alice, OrderID: uuid.NewString()},
		{CustomerID: s.alice, OrderID: "not-a-uuid"},
	} {
		_, err := s.Orders.GetOrderHistory(s.ctx, in)
		require.ErrorIs(t, err, orders.ErrNotFound, in)
	}
}
