// Package details composes an order with its customer and its payment,
// fetched concurrently through the contracts, each with its own deadline.
package details

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/modules/gateway"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/auth"
	"mitosis/platform/problem"
)

// Path is the composed route. echo prefers it to a proxy's wildcard, so it
// is served here even when orders runs elsewhere.
const Path = "/api/v1/orders/:id/details"

// Composer builds OrderDetails.
type Composer struct {
	orders   orders.Service
	users    users.Service
	payments payments.Service
	timeout  time.Duration
}

// New returns a composer; timeout bounds each part on its own.
func New(o orders.Service, u users.Service, p payments.Service, timeout time.Duration) *Composer {
	return &Composer{orders: o, users: u, payments: p, timeout: timeout}
}

// Compose fetches the customer's order, the customer and the order's
// payments at once. The order's error is the answer's; any other part that
// fails is left null and listed.
func (c *Composer) Compose(ctx context.Context, customerID, orderID string) (gateway.OrderDetails, error) {
	var (
		order       orders.Order
		orderErr    error
		customer    users.User
		customerErr error
		paymentList payments.PaymentList
		paymentErr  error
		wg          sync.WaitGroup
	)
	wg.Go(func() {
		order, orderErr = withTimeout(ctx, c.timeout, func(ctx context.Context) (orders.Order, error) {
			return c.orders.GetOrder(ctx, orders.GetOrderRequest{CustomerID: customerID, OrderID: orderID})
		})
	})
	// Orders belong to the caller, so the customer is the caller: no need to
	// wait for the order to know whom to fetch.
	wg.Go(func() {
		customer, customerErr = withTimeout(ctx, c.timeout, func(ctx context.Context) (users.User, error) {
			return c.users.Get(ctx, users.GetRequest{ID: customerID})
		})
	})
	wg.Go(func() {
		paymentList, paymentErr = withTimeout(ctx, c.timeout, func(ctx context.Context) (payments.PaymentList, error) {
			return c.payments.ListPayments(ctx, payments.ListPaymentsRequest{UserID: customerID, OrderID: orderID})
		})
	})
	wg.Wait()
	if orderErr != nil {
		return gateway.OrderDetails{}, orderErr
	}
	out := gateway.OrderDetails{Order: order, Failures: []gateway.PartFailure{}}
	if customerErr != nil {
		out.Failures = append(out.Failures, failure(gateway.PartCustomer, customerErr))
	} else {
		out.Customer = &customer
	}
	switch {
	case paymentErr != nil:
		out.Failures = append(out.Failures, failure(gateway.PartPayment, paymentErr))
	case order.PaymentID != nil:
		out.Payment = find(paymentList.Items, *order.PaymentID)
		if out.Payment == nil {
			out.Failures = append(out.Failures, failure(gateway.PartPayment, payments.ErrNotFound))
		}
	}
	sort.Slice(out.Failures, func(i, j int) bool { return out.Failures[i].Part < out.Failures[j].Part })
	return out, nil
}

// Mount serves the composed route to authenticated callers.
func Mount(e *echo.Echo, c *Composer, tokens *auth.Verifier) {
	e.GET(Path, func(ec echo.Context) error {
		ctx := ec.Request().Context()
		d, err := c.Compose(ctx, auth.Subject(ctx), ec.Param("id"))
		if err != nil {
			return err
		}
		return ec.JSON(http.StatusOK, d)
	}, tokens.Required)
}

func withTimeout[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return call(ctx)
}

// failure names the part and the error's code; the detail is the code's
// title, since a remote error's own text may name internal addresses.
func failure(part string, err error) gateway.PartFailure {
	d := problem.From(err)
	return gateway.PartFailure{Part: part, Code: d.Code, Detail: d.Title}
}

func find(list []payments.Payment, id string) *payments.Payment {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}
