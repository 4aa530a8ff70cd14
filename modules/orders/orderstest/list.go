package orderstest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
)

func (s *suite) testOtherCustomer(t *testing.T) {
	items := []orders.Item{s.item(1, 1)}
	s.fund(t, s.alice, s.total(items...))
	o := s.place(t, s.alice, "", items...)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	before := s.balance(t, s.alice)

	_, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.bob, OrderID: o.ID})
	require.ErrorIs(t, err, orders.ErrNotFound)
	_, err = s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.bob, OrderID: o.ID})
	require.ErrorIs(t, err, orders.ErrNotFound)
	got, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o, got, "another customer changed the order")
	assert.Equal(t, before, s.balance(t, s.alice))

	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		_, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: id})
		require.ErrorIs(t, err, orders.ErrNotFound, id)
		_, err = s.Orders.CancelOrder(s.ctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: id})
		require.ErrorIs(t, err, orders.ErrNotFound, id)
	}
}

// testPagination counts bob's orders, so no other subtest places any.
func (s *suite) testPagination(t *testing.T) {
	items := []orders.Item{s.item(4, 1)}
	s.fund(t, s.bob, 5*s.total(items...))
	var want []string
	for range 5 {
		want = append([]string{s.place(t, s.bob, "", items...).ID}, want...)
	}

	var got []string
	cursor, pages := "", 0
	for {
		page, err := s.Orders.ListOrders(s.ctx, orders.ListOrdersRequest{CustomerID: s.bob, Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		pages++
		require.LessOrEqual(t, pages, 3, "more pages than orders")
		for _, o := range page.Items {
			assert.Equal(t, s.bob, o.CustomerID)
			assert.NotEmpty(t, o.Items, "order %s listed without its items", o.ID)
			got = append(got, o.ID)
		}
		if page.NextCursor == "" {
			assert.Len(t, page.Items, 1, "last page")
			break
		}
		assert.Len(t, page.Items, 2)
		cursor = page.NextCursor
	}
	assert.Equal(t, 3, pages)
	assert.Equal(t, want, got, "newest first, each order once")

	for _, limit := range []int{0, 5, 100} {
		page, err := s.Orders.ListOrders(s.ctx, orders.ListOrdersRequest{CustomerID: s.bob, Limit: limit})
		require.NoError(t, err)
		assert.Len(t, page.Items, 5, "limit %d", limit)
		assert.Empty(t, page.NextCursor, "limit %d", limit)
	}

	cases := []struct {
		name   string
		in     orders.ListOrdersRequest
		fields []string
	}{
		{"garbage cursor", orders.ListOrdersRequest{CustomerID: s.bob, Cursor: "not a cursor"}, []string{"cursor"}},
		{"base64 cursor of garbage", orders.ListOrdersRequest{CustomerID: s.bob, Cursor: "Z2FyYmFnZQ"}, []string{"cursor"}},
		{"negative limit", orders.ListOrdersRequest{CustomerID: s.bob, Limit: -1}, []string{"limit"}},
		{"limit above the maximum", orders.ListOrdersRequest{CustomerID: s.bob, Limit: 101}, []string{"limit"}},
		{"bad customer id", orders.ListOrdersRequest{CustomerID: "not-a-uuid"}, []string{"customer_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Orders.ListOrders(s.ctx, tc.in)
			assert.ElementsMatch(t, tc.fields, invalidFields(t, err))
		})
	}
}

func (s *suite) testDeadline(t *testing.T) {
	dctx, cancel := context.WithTimeout(s.ctx, time.Nanosecond)
	defer cancel()
	<-dctx.Done()
	id := uuid.NewString()
	calls := []struct {
		name string
		call func() error
	}{
		{"ListProducts", func() error {
			_, err := s.Orders.ListProducts(dctx, orders.ListProductsRequest{})
			return err
		}},
		{"PlaceOrder", func() error {
			_, err := s.Orders.PlaceOrder(dctx, orders.PlaceOrderRequest{CustomerID: s.alice, Items: []orders.Item{s.item(0, 1)}})
			return err
		}},
		{"GetOrder", func() error {
			_, err := s.Orders.GetOrder(dctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: id})
			return err
		}},
		{"GetOrderHistory", func() error {
			_, err := s.Orders.GetOrderHistory(dctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: id})
			return err
		}},
		{"ListOrders", func() error {
			_, err := s.Orders.ListOrders(dctx, orders.ListOrdersRequest{CustomerID: s.alice})
			return err
		}},
		{"CancelOrder", func() error {
			_, err := s.Orders.CancelOrder(dctx, orders.CancelOrderRequest{CustomerID: s.alice, OrderID: id})
			return err
		}},
	}
	before := s.balance(t, s.alice)
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), context.DeadlineExceeded)
		})
	}
	assert.Equal(t, before, s.balance(t, s.alice))
}
