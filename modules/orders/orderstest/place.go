package orderstest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/platform/problem"
)

func (s *suite) testCatalog(t *testing.T) {
	skus := map[string]bool{}
	for _, p := range s.catalog {
		assert.NotEmpty(t, p.SKU)
		assert.NotEmpty(t, p.Name, p.SKU)
		assert.Positive(t, p.PriceCents, p.SKU)
		if assert.NotNil(t, p.Available, "%s: inventory answers, so the catalog says what is available", p.SKU) {
			assert.Positive(t, *p.Available, p.SKU)
		}
		assert.False(t, skus[p.SKU], "%s listed twice", p.SKU)
		skus[p.SKU] = true
	}
}

func (s *suite) testPlaceConfirmed(t *testing.T) {
	items := []orders.Item{s.item(0, 2), s.item(1, 1)}
	total := s.total(items...)
	s.fund(t, s.alice, total+1)
	before := s.balance(t, s.alice)

	o := s.place(t, s.alice, "", items...)
	assert.NotEmpty(t, o.ID)
	assert.Equal(t, s.alice, o.CustomerID)
	assert.Equal(t, orders.StatusConfirmed, o.Status)
	assert.Equal(t, total, o.TotalCents)
	assert.Nil(t, o.FailureReason)
	assert.WithinDuration(t, time.Now(), o.CreatedAt, time.Minute)
	require.Len(t, o.Items, len(items))
	for i, it := range o.Items {
		p := s.product(items[i].SKU)
		assert.Equal(t, orders.OrderItem{SKU: p.SKU, Name: p.Name, Quantity: items[i].Quantity,
			UnitPriceCents: p.PriceCents, LineTotalCents: p.PriceCents * int64(items[i].Quantity)}, it)
	}
	require.NotNil(t, o.PaymentID)
	assert.Equal(t, before-total, s.balance(t, s.alice))

	pay, err := s.Payments.GetPayment(s.ctx, payments.GetPaymentRequest{UserID: s.alice, PaymentID: *o.PaymentID})
	require.NoError(t, err)
	assert.Equal(t, o.ID, pay.OrderID)
	assert.Equal(t, total, pay.AmountCents)
	assert.Equal(t, payments.StatusCaptured, pay.Status)

	got, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o, got)
}

func (s *suite) testPlaceInsufficient(t *testing.T) {
	before := s.balance(t, s.alice)
	item := s.tooExpensive(t, s.alice)

	o := s.place(t, s.alice, "", item)
	assert.Equal(t, orders.StatusCancelled, o.Status)
	require.NotNil(t, o.FailureReason)
	assert.Equal(t, orders.ReasonInsufficientFunds, *o.FailureReason)
	assert.Nil(t, o.PaymentID)
	assert.Equal(t, s.total(item), o.TotalCents)
	assert.Equal(t, before, s.balance(t, s.alice))
	assert.Empty(t, s.paymentsOf(t, o))

	got, err := s.Orders.GetOrder(s.ctx, orders.GetOrderRequest{CustomerID: s.alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, o, got)
}

func (s *suite) testIdempotentReplay(t *testing.T) {
	items := []orders.Item{s.item(2, 1), s.item(3, 2)}
	total := s.total(items...)
	s.fund(t, s.alice, 3*total)
	before := s.balance(t, s.alice)
	key := "order-" + uuid.NewString()

	first := s.place(t, s.alice, key, items...)
	again := s.place(t, s.alice, key, items...)
	assert.Equal(t, orders.StatusConfirmed, first.Status)
	assert.Equal(t, first, again)
	assert.Equal(t, before-total, s.balance(t, s.alice))
	assert.Len(t, s.paymentsOf(t, first), 1)

	conflicts := []struct {
		name  string
		items []orders.Item
	}{
		{"other product", []orders.Item{s.item(2, 1), s.item(4, 2)}},
		{"other quantity", []orders.Item{s.item(2, 1), s.item(3, 3)}},
		{"fewer items", []orders.Item{s.item(2, 1)}},
	}
	for _, tc := range conflicts {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: s.alice, Items: tc.items, IdempotencyKey: key})
			require.ErrorIs(t, err, orders.ErrIdempotencyConflict)
		})
	}
	assert.Equal(t, before-total, s.balance(t, s.alice))
}

func (s *suite) testConcurrentSameKey(t *testing.T) {
	items := []orders.Item{s.item(0, 1)}
	total := s.total(items...)
	// Enough for every twin, so a double charge would show in the balance.
	s.fund(t, s.alice, 5*total)
	before := s.balance(t, s.alice)
	key := "order-" + uuid.NewString()

	got := make([]orders.Order, 5)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: s.alice, Items: items, IdempotencyKey: key})
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, got[0].ID, got[i].ID)
		assert.Equal(t, orders.StatusConfirmed, got[i].Status)
	}
	assert.Equal(t, before-total, s.balance(t, s.alice))
	assert.Len(t, s.paymentsOf(t, got[0]), 1)
}

func (s *suite) testValidation(t *testing.T) {
	before := s.balance(t, s.alice)
	sku := s.catalog[0].SKU
	tooMany := make([]orders.Item, orders.MaxItems+1)
	for i := range tooMany {
		tooMany[i] = orders.Item{SKU: fmt.Sprintf("SKU-%d", i), Quantity: 1}
	}
	// Far too many, each invalid twice over: one error for the count, not
	// 20,000 for the items.
	flood := make([]orders.Item, 10_000)
	for i := range flood {
		flood[i] = orders.Item{SKU: "", Quantity: 0}
	}
	cases := []struct {
		name     string
		customer string
		key      string
		items    []orders.Item
		fields   []string
	}{
		{"no items", s.alice, "", nil, []string{"items"}},
		{"too many items", s.alice, "", tooMany, []string{"items"}},
		{"10,000 invalid items", s.alice, "", flood, []string{"items"}},
		{"unknown sku", s.alice, "", []orders.Item{{SKU: "NO-SUCH-SKU", Quantity: 1}}, []string{"items[0].sku"}},
		{"empty sku", s.alice, "", []orders.Item{{SKU: " ", Quantity: 1}}, []string{"items[0].sku"}},
		{"zero quantity", s.alice, "", []orders.Item{{SKU: sku, Quantity: 0}}, []string{"items[0].quantity"}},
		{"negative quantity", s.alice, "", []orders.Item{{SKU: sku, Quantity: -1}}, []string{"items[0].quantity"}},
		{"quantity above the maximum", s.alice, "", []orders.Item{{SKU: sku, Quantity: orders.MaxQuantity + 1}}, []string{"items[0].quantity"}},
		{"duplicate sku", s.alice, "", []orders.Item{{SKU: sku, Quantity: 1}, {SKU: sku, Quantity: 2}}, []string{"items[1].sku"}},
		{"second item bad", s.alice, "", []orders.Item{{SKU: sku, Quantity: 1}, {SKU: "", Quantity: 0}}, []string{"items[1].sku", "items[1].quantity"}},
		{"bad customer id", "not-a-uuid", "", []orders.Item{{SKU: sku, Quantity: 1}}, []string{"customer_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: tc.customer, Items: tc.items, IdempotencyKey: tc.key})
			assert.ElementsMatch(t, tc.fields, invalidFields(t, err))
		})
	}
	t.Run("errors past the first 20 are counted", func(t *testing.T) {
		_, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: s.alice, Items: flood[:orders.MaxItems]})
		var ve *problem.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Len(t, ve.Fields, problem.MaxFieldErrors)
		assert.Equal(t, 2*orders.MaxItems-problem.MaxFieldErrors, ve.Omitted)
	})
	t.Run("key too long", func(t *testing.T) {
		_, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: s.alice,
			Items: []orders.Item{{SKU: sku, Quantity: 1}}, IdempotencyKey: strings.Repeat("k", 201)})
		fields := invalidFields(t, err)
		require.Len(t, fields, 1)
		// The local service names the HTTP header; the contract's field is
		// idempotency_key. Either tells the caller what is wrong.
		assert.Equal(t, "idempotency_key", fields[0])
	})
	assert.Equal(t, before, s.balance(t, s.alice), "a refused order moved money")
}

func (s *suite) testUnknownCustomer(t *testing.T) {
	stranger := uuid.NewString()
	_, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: stranger, Items: []orders.Item{s.item(0, 1)}})
	require.ErrorIs(t, err, orders.ErrCustomerNotFound)
	page, err := s.Orders.ListOrders(s.ctx, orders.ListOrdersRequest{CustomerID: stranger})
	require.NoError(t, err)
	assert.Empty(t, page.Items)
}
