package modules_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/problem"
)

// Every remote method declares whether it is safe to repeat: against a
// module that fails once with a 503 and then answers, the safe ones succeed
// on their second attempt and the others are sent exactly once.
func TestRemoteClientsRetryOnlyWhatIsSafeToRepeat(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Content-Type", problem.ContentType)
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(problem.From(problem.ErrUnavailable))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	var (
		u users.Service
		p payments.Service
		o orders.Service
	)
	modulestest.Clients(t, map[string]string{"users": srv.URL, "payments": srv.URL, "orders": srv.URL}, &u, &p, &o)

	const once, twice = 1, 2
	for name, tc := range map[string]struct {
		call     func(context.Context) error
		attempts int64
	}{
		"users.Register":          {ignore(u.Register, users.RegisterRequest{}), once},
		"users.Authenticate":      {ignore(u.Authenticate, users.Credentials{}), twice},
		"users.Get":               {ignore(u.Get, users.GetRequest{}), twice},
		"payments.Deposit":        {ignore(p.Deposit, payments.DepositRequest{}), once},
		"payments.Deposit keyed":  {ignore(p.Deposit, payments.DepositRequest{IdempotencyKey: "k"}), twice},
		"payments.GetWallet":      {ignore(p.GetWallet, payments.WalletRequest{}), twice},
		"payments.Charge":         {ignore(p.Charge, payments.ChargeRequest{IdempotencyKey: "k"}), twice},
		"payments.Refund":         {ignore(p.Refund, payments.RefundRequest{}), twice},
		"payments.GetPayment":     {ignore(p.GetPayment, payments.GetPaymentRequest{}), twice},
		"payments.ListPayments":   {ignore(p.ListPayments, payments.ListPaymentsRequest{}), twice},
		"orders.ListProducts":     {ignore(o.ListProducts, orders.ListProductsRequest{}), twice},
		"orders.PlaceOrder":       {ignore(o.PlaceOrder, orders.PlaceOrderRequest{}), once},
		"orders.PlaceOrder keyed": {ignore(o.PlaceOrder, orders.PlaceOrderRequest{IdempotencyKey: "k"}), twice},
		"orders.GetOrder":         {ignore(o.GetOrder, orders.GetOrderRequest{}), twice},
		"orders.ListOrders":       {ignore(o.ListOrders, orders.ListOrdersRequest{}), twice},
		"orders.CancelOrder":      {ignore(o.CancelOrder, orders.CancelOrderRequest{}), twice},
	} {
		t.Run(name, func(t *testing.T) {
			hits.Store(0)
			err := tc.call(context.Background())
			assert.Equal(t, tc.attempts, hits.Load())
			if tc.attempts == once {
				assert.ErrorIs(t, err, problem.ErrUnavailable)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

// ignore binds a contract method to its input and drops its result.
func ignore[In, Out any](method func(context.Context, In) (Out, error), in In) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := method(ctx, in)
		return err
	}
}
