package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/migrations"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/orders/internal/store"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) *store.Store {
	t.Helper()
	cfg := config.Config{Database: config.Database{URL: pgtest.NewDatabase(t), Isolation: config.Shared, Roles: config.RolesSingle}}
	target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, "orders")
	require.NoError(t, err)
	bdb, err := db.Open(target, 4)
	require.NoError(t, err)
	t.Cleanup(func() { bdb.Close() })
	require.NoError(t, db.Prepare(context.Background(), target, bdb, migrations.Tree(), slog.New(slog.NewTextHandler(io.Discard, nil))))
	return store.New(bdb)
}

// anyCustomer knows every user id; orders only calls Get.
type anyCustomer struct{ users.Service }

func (anyCustomer) Get(_ context.Context, in users.GetRequest) (users.User, error) {
	return users.User{ID: in.ID}, nil
}

// lateWallet captures the charge only after a concurrent request has ended
// the order, the window a retried placement can hit.
type lateWallet struct {
	payments.Service
	meanwhile func(orderID string)
	refunded  []string
}

func (w *lateWallet) Charge(_ context.Context, in payments.ChargeRequest) (payments.Payment, error) {
	w.meanwhile(in.OrderID)
	return payments.Payment{ID: uuid.NewString(), OrderID: in.OrderID, AmountCents: in.AmountCents, Status: payments.StatusCaptured}, nil
}

func (w *lateWallet) Refund(_ context.Context, in payments.RefundRequest) (payments.Payment, error) {
	w.refunded = append(w.refunded, in.PaymentID)
	return payments.Payment{ID: in.PaymentID, Status: payments.StatusRefunded}, nil
}

func TestAChargeOnAnOrderEndedMeanwhileIsRefunded(t *testing.T) {
	s := newStore(t)
	reason := orders.ReasonInsufficientFunds
	wallet := &lateWallet{meanwhile: func(orderID string) {
		moved, err := s.Transition(context.Background(), orderID, orders.StatusPending, orders.StatusCancelled, nil, &reason)
		require.NoError(t, err)
		require.True(t, moved)
	}}
	svc := app.New(s, anyCustomer{}, wallet)

	o, err := svc.PlaceOrder(context.Background(), orders.PlaceOrderRequest{
		CustomerID: uuid.NewString(), Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}},
	})
	require.NoError(t, err)
	assert.Equal(t, orders.StatusCancelled, o.Status, "the first outcome stands")
	assert.Nil(t, o.PaymentID)
	assert.Len(t, wallet.refunded, 1, "the stray charge is given back")
}
