package orders_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
)

// How the payments gate of TestACancellationWaitingForItsRefundIsAccepted
// answers.
const (
	gateOpen    int32 = iota
	gateSlow          // holds each call until its caller gives up
	gateRefused       // answers 503 at once
)

// A customer's cancellation whose refund payments does not answer in time
// (too slow, or refusing) is recorded and answered with the order as it
// stands, still confirmed: a 202 on the public route, the same order
// in-process and over the internal route, never a 504 or a 503. Once
// payments answers, the saga refunds the order once and cancels it.
func TestACancellationWaitingForItsRefundIsAccepted(t *testing.T) {
	var (
		usersSvc users.Service
		paySvc   payments.Service
	)
	deps := modulestest.Start(t, map[string]string{"SERVICES": "users,payments,inventory"}, &usersSvc, &paySvc)
	var mode atomic.Int32
	target, err := url.Parse(deps.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case gateSlow:
			// The body read first: only then does the server notice the
			// caller hanging up, and end r's context.
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		case gateRefused:
			http.Error(w, "payments unreachable", http.StatusServiceUnavailable)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(gate.Close)
	var local orders.Service
	p := modulestest.Start(t, map[string]string{
		"SERVICES": "orders", "DATABASE_URL": deps.DB,
		"USERS_URL": deps.URL, "PAYMENTS_URL": gate.URL, "INVENTORY_URL": deps.URL,
		"SAGA_INLINE_TIMEOUT": "1s", "SAGA_RECOVERY_INTERVAL": "100ms", "SAGA_BACKOFF_MAX": "200ms",
		// The breaker the refused refunds open lets payments back soon.
		"BREAKER_COOLDOWN": "200ms",
	}, &local)
	var remote orders.Service
	modulestest.Clients(t, map[string]string{"orders": p.URL}, &remote)

	ctx := context.Background()
	email := userstest.Email()
	u, err := usersSvc.Register(ctx, users.RegisterRequest{Email: email, Name: "Ada", Password: "password1"})
	require.NoError(t, err)
	tok, err := usersSvc.Authenticate(ctx, users.Credentials{Email: email, Password: "password1"})
	require.NoError(t, err)
	_, err = paySvc.Deposit(ctx, payments.DepositRequest{UserID: u.ID, AmountCents: 100_000})
	require.NoError(t, err)
	public := func(t *testing.T, o orders.Order) orders.Order {
		req, err := http.NewRequest(http.MethodPost, p.URL+"/api/v1/orders/"+o.ID+"/cancel", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		var got orders.Order
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		return got
	}
	contract := func(svc orders.Service) func(*testing.T, orders.Order) orders.Order {
		return func(t *testing.T, o orders.Order) orders.Order {
			got, err := svc.CancelOrder(ctx, orders.CancelOrderRequest{CustomerID: o.CustomerID, OrderID: o.ID})
			require.NoError(t, err)
			return got
		}
	}
	cancels := map[string]func(*testing.T, orders.Order) orders.Order{
		"in-process": contract(local), "http": contract(remote), "public route": public,
	}
	for name, cancel := range cancels {
		for _, m := range []struct {
			name string
			mode int32
		}{{"payments too slow", gateSlow}, {"payments refusing", gateRefused}} {
			t.Run(name+", "+m.name, func(t *testing.T) {
				mode.Store(gateOpen)
				o, err := local.PlaceOrder(ctx, orders.PlaceOrderRequest{CustomerID: u.ID, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
				require.NoError(t, err)
				// On a loaded machine the placement can outlast its inline
				// second and answer pending; the worker confirms it then.
				placed := o.ID
				require.Eventually(t, func() bool {
					o, err = local.GetOrder(ctx, orders.GetOrderRequest{CustomerID: u.ID, OrderID: placed})
					return err == nil && o.Status == orders.StatusConfirmed
				}, 20*time.Second, 20*time.Millisecond)
				before, err := paySvc.GetWallet(ctx, payments.WalletRequest{UserID: u.ID})
				require.NoError(t, err)

				mode.Store(m.mode)
				got := cancel(t, o)
				assert.Equal(t, o.ID, got.ID)
				assert.Equal(t, orders.StatusConfirmed, got.Status, "as it stands: the refund waits")
				assert.Equal(t, o.PaymentID, got.PaymentID)
				h, err := local.GetOrderHistory(ctx, orders.GetOrderRequest{CustomerID: u.ID, OrderID: o.ID})
				require.NoError(t, err)
				require.NotNil(t, h.NextStep)
				assert.Equal(t, orders.StepRefund, *h.NextStep, "the cancellation is recorded")

				mode.Store(gateOpen)
				require.Eventually(t, func() bool {
					got, err = local.GetOrder(ctx, orders.GetOrderRequest{CustomerID: u.ID, OrderID: o.ID})
					require.NoError(t, err)
					return got.Status == orders.StatusCancelled
				}, 20*time.Second, 50*time.Millisecond)
				require.NotNil(t, got.FailureReason)
				assert.Equal(t, orders.ReasonCancelledByUser, *got.FailureReason)
				after, err := paySvc.GetWallet(ctx, payments.WalletRequest{UserID: u.ID})
				require.NoError(t, err)
				assert.Equal(t, before.BalanceCents+o.TotalCents, after.BalanceCents, "refunded once")
				list, err := paySvc.ListPayments(ctx, payments.ListPaymentsRequest{UserID: u.ID, OrderID: o.ID})
				require.NoError(t, err)
				require.Len(t, list.Items, 1)
				assert.Equal(t, payments.StatusRefunded, list.Items[0].Status)
			})
		}
	}
}
