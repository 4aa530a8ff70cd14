// Package orderstest is the contract suite of orders.Service: every
// implementation (local, the HTTP client, or a local one whose users and
// payments are remote) must pass it unchanged.
package orderstest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
	"mitosis/platform/problem"
)

// Deps is the service under test and the modules it needs customers and
// money from. Users and Payments only set the stage and check the effects.
type Deps struct {
	Orders   orders.Service
	Users    users.Service
	Payments payments.Service
}

// suite is one run of the contract: two registered customers (bcrypt is
// slow under the race detector, so they are shared) and the catalog.
// Subtests run one after another, so each one checks balances as deltas.
type suite struct {
	Deps
	ctx     context.Context
	catalog []orders.Product
	// alice places most orders; bob only places the orders that the
	// pagination test counts, and otherwise tries to reach alice's.
	alice, bob string
}

// Run checks deps.Orders against the contract.
func Run(t *testing.T, deps Deps) {
	s := &suite{Deps: deps, ctx: context.Background()}
	s.alice = s.register(t, "Alice")
	s.bob = s.register(t, "Bob")
	list, err := deps.Orders.ListProducts(s.ctx, orders.ListProductsRequest{})
	require.NoError(t, err)
	s.catalog = list.Items
	require.GreaterOrEqual(t, len(s.catalog), 5, "the suite needs a catalog of at least five products")

	t.Run("the catalog lists priced products", s.testCatalog)
	t.Run("an order with enough money is confirmed and charged", s.testPlaceConfirmed)
	t.Run("an order with too little money is cancelled and not charged", s.testPlaceInsufficient)
	t.Run("an idempotency key places and charges once", s.testIdempotentReplay)
	t.Run("concurrent placements with one key place and charge once", s.testConcurrentSameKey)
	t.Run("invalid orders name every bad field", s.testValidation)
	t.Run("an unknown customer cannot order", s.testUnknownCustomer)
	t.Run("another customer's order is not found", s.testOtherCustomer)
	t.Run("orders are listed newest first a page at a time", s.testPagination)
	t.Run("cancelling a confirmed order refunds it once", s.testCancel)
	t.Run("concurrent cancels refund once", s.testConcurrentCancel)
	t.Run("cancelling an unpaid order changes nothing", s.testCancelUnpaid)
	t.Run("an order's history lists its saga's steps", s.testHistoryConfirmed)
	t.Run("a refused charge is compensated in the history", s.testHistoryCompensated)
	t.Run("another customer's history is not found", s.testHistoryOfOthers)
	t.Run("an expired deadline is honoured", s.testDeadline)
}

func (s *suite) register(t *testing.T, name string) string {
	t.Helper()
	u, err := s.Users.Register(s.ctx, users.RegisterRequest{Email: userstest.Email(), Name: name, Password: "password1"})
	require.NoError(t, err)
	return u.ID
}

func (s *suite) fund(t *testing.T, customer string, cents int64) {
	t.Helper()
	_, err := s.Payments.Deposit(s.ctx, payments.DepositRequest{UserID: customer, AmountCents: cents})
	require.NoError(t, err)
}

func (s *suite) balance(t *testing.T, customer string) int64 {
	t.Helper()
	w, err := s.Payments.GetWallet(s.ctx, payments.WalletRequest{UserID: customer})
	require.NoError(t, err)
	return w.BalanceCents
}

// paymentsOf lists the payments taken for one order.
func (s *suite) paymentsOf(t *testing.T, o orders.Order) []payments.Payment {
	t.Helper()
	list, err := s.Payments.ListPayments(s.ctx, payments.ListPaymentsRequest{UserID: o.CustomerID, OrderID: o.ID})
	require.NoError(t, err)
	return list.Items
}

func (s *suite) place(t *testing.T, customer, key string, items ...orders.Item) orders.Order {
	t.Helper()
	o, err := s.Orders.PlaceOrder(s.ctx, orders.PlaceOrderRequest{CustomerID: customer, Items: items, IdempotencyKey: key})
	require.NoError(t, err)
	return o
}

// item orders qty of the i-th product of the catalog.
func (s *suite) item(i, qty int) orders.Item {
	return orders.Item{SKU: s.catalog[i].SKU, Quantity: qty}
}

func (s *suite) product(sku string) orders.Product {
	for _, p := range s.catalog {
		if p.SKU == sku {
			return p
		}
	}
	return orders.Product{}
}

// total prices items from the catalog, as the order must.
func (s *suite) total(items ...orders.Item) int64 {
	var sum int64
	for _, it := range items {
		sum += s.product(it.SKU).PriceCents * int64(it.Quantity)
	}
	return sum
}

// tooExpensive returns one item that costs more than the customer holds.
func (s *suite) tooExpensive(t *testing.T, customer string) orders.Item {
	t.Helper()
	dearest := 0
	for i, p := range s.catalog {
		if p.PriceCents > s.catalog[dearest].PriceCents {
			dearest = i
		}
	}
	qty := int(s.balance(t, customer)/s.catalog[dearest].PriceCents) + 1
	require.LessOrEqual(t, qty, orders.MaxQuantity, "the customer is too rich for this test")
	return s.item(dearest, qty)
}

// invalidFields requires err to be a validation error and returns the names
// of the fields it reports.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, problem.ErrValidation)
	var ve *problem.ValidationError
	require.True(t, errors.As(err, &ve), "%T is not a *problem.ValidationError", err)
	return ve.FieldNames()
}
