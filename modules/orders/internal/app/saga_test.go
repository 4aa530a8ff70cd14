package app_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/payments"
)

const mug = 1290

func TestAnOrderPlacedWhilePaymentsIsDownIsConfirmedByTheWorker(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice := e.customer(t, 5000)
	e.wallet.down.Store(true)

	o := e.place(t, svc, alice)
	assert.Equal(t, orders.StatusPending, o.Status)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge retrying"}, e.history(t, o))
	assert.Equal(t, [3]int64{seeded - 1, 1, 0}, e.mugs(t), "held while it is paid")

	// The worker retries while payments stays down; the retries share one entry.
	w := app.NewWorker(svc, quiet())
	require.Eventually(t, func() bool {
		_, err := w.RunOnce(e.ctx)
		require.NoError(t, err)
		h, err := svc.GetOrderHistory(e.ctx, orders.GetOrderRequest{CustomerID: o.CustomerID, OrderID: o.ID})
		require.NoError(t, err)
		return h.Steps[len(h.Steps)-1].Detail == "Service unavailable (attempt 3)"
	}, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge retrying"}, e.history(t, o))

	e.wallet.down.Store(false)
	got := e.settled(t, w, o)
	assert.Equal(t, orders.StatusConfirmed, got.Status)
	require.Len(t, e.paymentsOf(t, o), 1)
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))
	h := e.history(t, o)
	assert.Equal(t, []string{"charge succeeded", "confirm succeeded"}, h[len(h)-2:])
	assert.Equal(t, [3]int64{seeded - 1, 0, 1}, e.mugs(t), "sold once confirmed")
}

// A charge whose answer was lost, and whose runner then died holding the
// lease: once the lease expires, the worker charges again with the same
// key, gets the same payment, and confirms. The money moved once.
func TestTheWorkerFinishesASagaChargedButNotConfirmed(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice := e.customer(t, 5000)
	e.wallet.loseReply.Store(true)
	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	require.Len(t, e.paymentsOf(t, o), 1, "the charge landed")
	e.wallet.loseReply.Store(false)

	// A runner that crashed mid-step still holds the lease.
	_, err := e.db.NewRaw("UPDATE sagas SET lease_owner = 'dead', lease_until = now() + interval '1 hour', next_attempt_at = now() WHERE order_id = ?", o.ID).Exec(e.ctx)
	require.NoError(t, err)
	w := app.NewWorker(svc, quiet())
	n, err := w.RunOnce(e.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a held saga is not taken")

	_, err = e.db.NewRaw("UPDATE sagas SET lease_until = now() - interval '1 second' WHERE order_id = ?", o.ID).Exec(e.ctx)
	require.NoError(t, err)
	got := e.settled(t, w, o)
	assert.Equal(t, orders.StatusConfirmed, got.Status)
	pays := e.paymentsOf(t, o)
	require.Len(t, pays, 1)
	assert.Equal(t, pays[0].ID, *got.PaymentID)
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))
}

// Two replicas recover the same sagas at once: each charge step runs once.
func TestTwoWorkersNeverRunOneSagaAtOnce(t *testing.T) {
	e := newEnv(t, sagaConfig())
	one, two := app.NewWorker(e.service(), quiet()), app.NewWorker(e.service(), quiet())
	alice := e.customer(t, 100*mug)
	e.wallet.down.Store(true)
	var placed []orders.Order
	for range 20 {
		placed = append(placed, e.place(t, e.service(), alice))
	}
	e.wallet.down.Store(false)
	e.wallet.delay = 10 * time.Millisecond // widens the window two runners would share

	var wg sync.WaitGroup
	for _, w := range []*app.Worker{one, two} {
		wg.Go(func() {
			for range 100 {
				_, err := w.RunOnce(e.ctx)
				assert.NoError(t, err)
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, o := range placed {
		got, err := e.store.Get(e.ctx, o.CustomerID, o.ID)
		require.NoError(t, err)
		assert.Equal(t, orders.StatusConfirmed, got.Status)
		assert.Equal(t, 1, e.wallet.chargeCalls(o.ID), "order %s charged by one runner, once", o.ID)
		assert.Len(t, e.paymentsOf(t, o), 1)
	}
	assert.Equal(t, int64(80*mug), e.balance(t, alice))
}

// The charge landed but its answer was lost, then payments stayed away past
// the deadline: the saga voids the charge (refunds it, once) and cancels.
func TestADeadlinePassedAfterAnInDoubtChargeRefundsItAndCancels(t *testing.T) {
	cfg := sagaConfig()
	cfg.Deadline = 300 * time.Millisecond
	e := newEnv(t, cfg)
	svc := e.service()
	alice := e.customer(t, 5000)
	e.wallet.loseReply.Store(true)
	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	require.Equal(t, int64(5000-mug), e.balance(t, alice), "charged, though orders does not know")
	e.wallet.loseReply.Store(false)
	time.Sleep(cfg.Deadline)

	w := app.NewWorker(svc, quiet())
	got := e.settled(t, w, o)
	assert.Equal(t, orders.StatusCancelled, got.Status)
	assert.Equal(t, orders.ReasonDeadlineExceeded, *got.FailureReason)
	assert.Nil(t, got.PaymentID)
	assert.Equal(t, int64(5000), e.balance(t, alice), "refunded once")
	pays := e.paymentsOf(t, o)
	require.Len(t, pays, 1)
	assert.Equal(t, payments.StatusRefunded, pays[0].Status)
	h := e.history(t, o)
	assert.Equal(t, []string{"void_charge succeeded", "release_stock succeeded", "cancel succeeded"}, h[len(h)-3:])
	assert.Equal(t, [3]int64{seeded, 0, 0}, e.mugs(t), "the stock given back")

	// Running the worker again, or the charge retried late, moves nothing.
	_, err := w.RunOnce(e.ctx)
	require.NoError(t, err)
	_, err = e.pay.Charge(e.ctx, payments.ChargeRequest{UserID: alice, OrderID: o.ID, AmountCents: mug, IdempotencyKey: "order:" + o.ID + ":charge"})
	require.NoError(t, err)
	assert.Equal(t, int64(5000), e.balance(t, alice))
}

// Payments never answered before the deadline: the charge key is voided,
// so a charge request still on its way is refused when it lands.
func TestADeadlinePassedWithNoChargeVoidsItsKey(t *testing.T) {
	cfg := sagaConfig()
	cfg.Deadline = 300 * time.Millisecond
	e := newEnv(t, cfg)
	svc := e.service()
	alice := e.customer(t, 5000)
	e.wallet.down.Store(true)
	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	time.Sleep(cfg.Deadline)
	e.wallet.down.Store(false)

	got := e.settled(t, app.NewWorker(svc, quiet()), o)
	assert.Equal(t, orders.StatusCancelled, got.Status)
	assert.Equal(t, orders.ReasonDeadlineExceeded, *got.FailureReason)
	assert.Zero(t, e.wallet.chargeCalls(o.ID), "past its deadline the charge is not tried")

	_, err := e.pay.Charge(e.ctx, payments.ChargeRequest{UserID: alice, OrderID: o.ID, AmountCents: mug, IdempotencyKey: "order:" + o.ID + ":charge"})
	require.ErrorIs(t, err, payments.ErrChargeVoided)
	assert.Equal(t, int64(5000), e.balance(t, alice))
	assert.Empty(t, e.paymentsOf(t, o))
	assert.Equal(t, [3]int64{seeded, 0, 0}, e.mugs(t), "the stock given back")
}

// A cancellation whose refund answer is lost is finished by the worker,
// and the retried refund (same key) does not refund twice.
func TestARetriedCancellationRefundsOnce(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice := e.customer(t, 5000)
	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusConfirmed, o.Status)

	e.wallet.loseReply.Store(true)
	waiting, err := svc.CancelOrder(e.ctx, orders.CancelOrderRequest{CustomerID: alice, OrderID: o.ID})
	require.NoError(t, err, "the cancellation is recorded: its refund waits")
	assert.Equal(t, orders.StatusConfirmed, waiting.Status)
	assert.Equal(t, int64(5000), e.balance(t, alice), "the refund landed")
	e.wallet.loseReply.Store(false)

	got := e.settledCancel(t, app.NewWorker(svc, quiet()), o)
	assert.Equal(t, orders.ReasonCancelledByUser, *got.FailureReason)
	assert.Equal(t, int64(5000), e.balance(t, alice), "refunded once")
	again, err := svc.CancelOrder(e.ctx, orders.CancelOrderRequest{CustomerID: alice, OrderID: o.ID})
	require.NoError(t, err)
	assert.Equal(t, got, again)
	assert.Equal(t, int64(5000), e.balance(t, alice))
	h := e.history(t, o)
	assert.Equal(t, []string{"refund succeeded", "release_stock succeeded", "cancel succeeded"}, h[len(h)-3:])
	assert.Equal(t, [3]int64{seeded, 0, 0}, e.mugs(t), "a cancelled order gives its stock back, once")
}

// settledCancel runs worker passes until the order is cancelled.
func (e *env) settledCancel(t *testing.T, w *app.Worker, o orders.Order) orders.Order {
	t.Helper()
	var got orders.Order
	require.Eventually(t, func() bool {
		_, err := w.RunOnce(e.ctx)
		require.NoError(t, err)
		got, err = e.store.Get(e.ctx, o.CustomerID, o.ID)
		require.NoError(t, err)
		return got.Status == orders.StatusCancelled
	}, 10*time.Second, 20*time.Millisecond)
	return got
}

// users did not answer at placement: the worker checks the customer later,
// and goes on to charge, or cancels if the customer is gone.
func TestTheWorkerChecksACustomerUsersCouldNotConfirm(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice, bob := e.customer(t, 5000), e.customer(t, 5000)
	e.customers.down.Store(true)
	fine, gone := e.place(t, svc, alice), e.place(t, svc, bob)
	for _, o := range []orders.Order{fine, gone} {
		require.Equal(t, orders.StatusPending, o.Status)
		assert.Equal(t, []string{"check_customer retrying"}, e.history(t, o))
	}
	e.customers.down.Store(false)
	e.customers.gone.Store(bob, true)

	w := app.NewWorker(svc, quiet())
	got := e.settled(t, w, fine)
	assert.Equal(t, orders.StatusConfirmed, got.Status)
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))
	got = e.settled(t, w, gone)
	assert.Equal(t, orders.StatusCancelled, got.Status)
	assert.Equal(t, orders.ReasonCustomerNotFound, *got.FailureReason)
	assert.Equal(t, []string{"check_customer retrying", "check_customer failed", "cancel succeeded"}, e.history(t, gone))
	assert.Equal(t, int64(5000), e.balance(t, bob))
}
