package orderstest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
)

func (s *suite) testCancel(t *testing.T) {
	items := []orders.Item{s.item(3, 1)}
	total := s.total(items...)
	s.fund(t, s.alice, total)
	o := s.place(t, s.alice, "", items...)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	before := s.balance(t, s.alice)

	c, err := s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o.ID, c.ID)
	assert.Equal(t, orders.StatusCancelled, c.Status)
	require.NotNil(t, c.FailureReason)
	assert.Equal(t, orders.ReasonCancelledByUser, *c.FailureReason)
	assert.Equal(t, o.PaymentID, c.PaymentID)
	assert.Equal(t, o.TotalCents, c.TotalCents)
	assert.Equal(t, o.Items, c.Items)
	assert.False(t, c.UpdatedAt.Before(o.UpdatedAt))
	assert.Equal(t, before+total, s.balance(t, s.alice), "refunded")
	s.requireRefunded(t, o)

	again, err := s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, c, again)
	assert.Equal(t, before+total, s.balance(t, s.alice), "refunded once")

	got, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func (s *suite) testConcurrentCancel(t *testing.T) {
	items := []orders.Item{s.item(2, 2)}
	total := s.total(items...)
	s.fund(t, s.alice, total)
	o := s.place(t, s.alice, "", items...)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	before := s.balance(t, s.alice)

	got := make([]orders.Order, 5)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: o.ID})
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, orders.StatusCancelled, got[i].Status)
	}
	assert.Equal(t, before+total, s.balance(t, s.alice), "refunded exactly once")
	s.requireRefunded(t, o)
}

func (s *suite) testCancelUnpaid(t *testing.T) {
	o := s.place(t, s.alice, "", s.tooExpensive(t, s.alice))
	require.Equal(t, orders.StatusCancelled, o.Status)
	before := s.balance(t, s.alice)

	got, err := s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o, got)
	assert.Equal(t, before, s.balance(t, s.alice))
	assert.Empty(t, s.paymentsOf(t, o))
}

// requireRefunded checks the order's one payment was refunded.
func (s *suite) requireRefunded(t *testing.T, o orders.Order) {
	t.Helper()
	require.NotNil(t, o.PaymentID)
	pay, err := s.Payments.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: o.CustomerID, PaymentID: *o.PaymentID})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusRefunded, pay.Status)
	assert.NotNil(t, pay.RefundedAt)
	assert.Len(t, s.paymentsOf(t, o), 1)
}
