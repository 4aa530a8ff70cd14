package app_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/payments"
)

// Confirm runs right after the charge succeeds and both are recorded in one
// transaction: these tests hold the saga to what that promises when the
// stock's commit fails, and when a runner dies between the commit and the
// record.

// commitlessStock is the real inventory whose Commit can be made to fail.
type commitlessStock struct {
	inventory.Service
	down atomic.Bool
}

func (s *commitlessStock) Commit(ctx context.Context, in inventory.CommitRequest) (inventory.Reservation, error) {
	if s.down.Load() {
		return inventory.Reservation{}, errors.New("inventory unavailable")
	}
	return s.Service.Commit(ctx, in)
}

// Inventory refuses the commit after the charge: the charge is recorded
// with confirm's retry, once, and the worker confirms when inventory is
// back, charging nothing more.
func TestAStockCommitFailingAfterTheChargeIsRetriedWithTheChargeRecorded(t *testing.T) {
	e := newEnv(t, sagaConfig())
	stock := &commitlessStock{Service: e.stock}
	svc := app.New(e.store, &e.customers, e.wallet, stock, e.cfg, app.Telemetry{})
	alice := e.customer(t, 5000)
	stock.down.Store(true)
	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge succeeded", "confirm retrying"}, e.history(t, o))
	assert.Equal(t, [3]int64{seeded - 1, 1, 0}, e.mugs(t), "reserved, not sold")
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))

	stock.down.Store(false)
	got := e.settled(t, app.NewWorker(svc, quiet()), o)
	assert.Equal(t, orders.StatusConfirmed, got.Status)
	assert.Equal(t, []string{"check_customer succeeded", "reserve_stock succeeded", "charge succeeded", "confirm retrying", "confirm succeeded"}, e.history(t, o))
	assert.Equal(t, [3]int64{seeded - 1, 0, 1}, e.mugs(t))
	assert.Equal(t, 1, e.wallet.chargeCalls(o.ID), "charged once")
	pays := e.paymentsOf(t, o)
	require.Len(t, pays, 1)
	assert.Equal(t, pays[0].ID, *got.PaymentID)
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))
}

// diedAfterTheStockCommit leaves an order as a runner that died between
// the stock's commit and its record leaves it: the saga still at charge,
// the payment captured, the stock sold. (The charge's answer is lost, so
// the placing request records a retry of the charge and goes no further;
// the stock is then committed by hand, as the dead runner's confirm did.)
func diedAfterTheStockCommit(t *testing.T, e *env, svc *app.Service, customer string) orders.Order {
	t.Helper()
	e.wallet.loseReply.Store(true)
	o := e.place(t, svc, customer)
	e.wallet.loseReply.Store(false)
	require.Equal(t, orders.StatusPending, o.Status)
	_, err := e.stock.Commit(e.ctx, inventory.CommitRequest{OrderID: o.ID})
	require.NoError(t, err)
	require.Equal(t, [3]int64{seeded - 1, 0, 1}, e.mugs(t))
	require.Len(t, e.paymentsOf(t, o), 1)
	return o
}

// Forward from there: the charge is replayed under its key and confirm
// commits a committed reservation, which changes nothing.
func TestASagaThatDiedAfterTheStockCommitIsConfirmedOnce(t *testing.T) {
	e := newEnv(t, sagaConfig())
	svc := e.service()
	alice := e.customer(t, 5000)
	o := diedAfterTheStockCommit(t, e, svc, alice)

	got := e.settled(t, app.NewWorker(svc, quiet()), o)
	assert.Equal(t, orders.StatusConfirmed, got.Status)
	pays := e.paymentsOf(t, o)
	require.Len(t, pays, 1)
	assert.Equal(t, pays[0].ID, *got.PaymentID)
	assert.Equal(t, payments.StatusCaptured, pays[0].Status)
	assert.Equal(t, int64(5000-mug), e.balance(t, alice))
	assert.Equal(t, [3]int64{seeded - 1, 0, 1}, e.mugs(t), "sold once")
}

// Back from there, the deadline passed: the charge is refunded and the
// stock sold is given back.
func TestASagaThatDiedAfterTheStockCommitPastItsDeadlineGivesAllBack(t *testing.T) {
	cfg := sagaConfig()
	cfg.Deadline = 300 * time.Millisecond
	e := newEnv(t, cfg)
	svc := e.service()
	alice := e.customer(t, 5000)
	o := diedAfterTheStockCommit(t, e, svc, alice)
	time.Sleep(cfg.Deadline)

	got := e.settled(t, app.NewWorker(svc, quiet()), o)
	assert.Equal(t, orders.StatusCancelled, got.Status)
	assert.Equal(t, orders.ReasonDeadlineExceeded, *got.FailureReason)
	h := e.history(t, o)
	assert.Equal(t, []string{"void_charge succeeded", "release_stock succeeded", "cancel succeeded"}, h[len(h)-3:])
	assert.Equal(t, int64(5000), e.balance(t, alice), "refunded")
	pays := e.paymentsOf(t, o)
	require.Len(t, pays, 1)
	assert.Equal(t, payments.StatusRefunded, pays[0].Status)
	assert.Equal(t, [3]int64{seeded, 0, 0}, e.mugs(t), "the stock sold given back")
}
