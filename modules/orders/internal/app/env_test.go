package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/orders/internal/store"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is the orders domain on its own database, paying through a real
// payments module behind a wallet that can be made to fail, its stock held
// by a real inventory module.
type env struct {
	db     *bun.DB
	store  *store.Store
	pay    payments.Service
	stock  inventory.Service
	wallet *faultyWallet
	// customers knows everyone, unless down or told someone is gone.
	customers faultyCustomers
	cfg       app.Settings
	ctx       context.Context
}

func newEnv(t *testing.T, cfg app.Settings) *env {
	t.Helper()
	bdb := modulestest.Database(t, "orders", 8)
	var (
		pay   payments.Service
		stock inventory.Service
	)
	modulestest.Start(t, map[string]string{"SERVICES": "payments," + inventory.Name}, &pay, &stock)
	return &env{db: bdb, store: store.New(bdb), pay: pay, stock: stock, wallet: &faultyWallet{Service: pay, charges: map[string]int{}},
		cfg: cfg, ctx: context.Background()}
}

func sagaConfig() app.Settings {
	return app.Settings{Deadline: time.Minute, InlineTimeout: 2 * time.Second, RecoveryInterval: 50 * time.Millisecond,
		Lease: 5 * time.Second, BackoffMax: 100 * time.Millisecond}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// service is one replica of orders on the env's database.
func (e *env) service() *app.Service {
	return app.New(e.store, &e.customers, e.wallet, e.stock, e.cfg, app.Telemetry{})
}

// seeded is the stock of each catalog SKU that inventory's migrations set.
const seeded = 10000

// mugs is the mug's stock: available, reserved, sold.
func (e *env) mugs(t *testing.T) [3]int64 {
	t.Helper()
	list, err := e.stock.GetStock(e.ctx, inventory.StockRequest{SKUs: []string{"MUG-CERAMIC"}})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	st := list.Items[0]
	return [3]int64{st.Available, st.Reserved, st.Sold}
}

// customer opens a wallet holding cents.
func (e *env) customer(t *testing.T, cents int64) string {
	t.Helper()
	id := uuid.NewString()
	_, err := e.pay.Deposit(e.ctx, payments.DepositRequest{UserID: id, AmountCents: cents})
	require.NoError(t, err)
	return id
}

func (e *env) balance(t *testing.T, customer string) int64 {
	t.Helper()
	w, err := e.pay.GetWallet(e.ctx, payments.WalletRequest{UserID: customer})
	require.NoError(t, err)
	return w.BalanceCents
}

// paymentsOf lists the payments payments holds for an order.
func (e *env) paymentsOf(t *testing.T, o orders.Order) []payments.Payment {
	t.Helper()
	list, err := e.pay.ListPayments(e.ctx, payments.ListPaymentsRequest{UserID: o.CustomerID, OrderID: o.ID})
	require.NoError(t, err)
	return list.Items
}

// place orders one mug (mug cents) for customer.
func (e *env) place(t *testing.T, svc *app.Service, customer string) orders.Order {
	t.Helper()
	o, err := svc.PlaceOrder(e.ctx, orders.PlaceOrderRequest{CustomerID: customer, Items: []orders.Item{{SKU: "MUG-CERAMIC", Quantity: 1}}})
	require.NoError(t, err)
	return o
}

// settled runs worker passes until the order leaves pending.
func (e *env) settled(t *testing.T, w *app.Worker, o orders.Order) orders.Order {
	t.Helper()
	var got orders.Order
	require.Eventually(t, func() bool {
		_, err := w.RunOnce(e.ctx)
		require.NoError(t, err)
		got, err = e.store.Get(e.ctx, o.CustomerID, o.ID)
		require.NoError(t, err)
		return got.Status != orders.StatusPending
	}, 10*time.Second, 20*time.Millisecond)
	return got
}

func (e *env) history(t *testing.T, o orders.Order) []string {
	t.Helper()
	h, err := e.service().GetOrderHistory(e.ctx, orders.GetOrderRequest{CustomerID: o.CustomerID, OrderID: o.ID})
	require.NoError(t, err)
	var steps []string
	for _, s := range h.Steps {
		steps = append(steps, s.Step+" "+s.Outcome)
	}
	return steps
}

type faultyCustomers struct {
	down atomic.Bool
	gone sync.Map // customer ids that no longer exist
}

func (c *faultyCustomers) Get(_ context.Context, in users.GetRequest) (users.User, error) {
	if c.down.Load() {
		return users.User{}, problem.ErrUnavailable
	}
	if _, gone := c.gone.Load(in.ID); gone {
		return users.User{}, users.ErrNotFound
	}
	return users.User{ID: in.ID}, nil
}

// faultyWallet is the real payments behind a switch: down, calls fail
// before reaching payments; loseReply, they reach it and their answer is
// lost (the in-doubt case of a timeout or a cut connection).
type faultyWallet struct {
	payments.Service
	down, loseReply atomic.Bool
	delay           time.Duration

	mu      sync.Mutex
	charges map[string]int // Charge calls that reached payments, per order
}

func (w *faultyWallet) fail() error {
	if w.down.Load() {
		return problem.ErrUnavailable
	}
	return nil
}

func (w *faultyWallet) lost(err error) error {
	if err == nil && w.loseReply.Load() {
		return problem.ErrUnavailable
	}
	return err
}

func (w *faultyWallet) Charge(ctx context.Context, in payments.ChargeRequest) (payments.Payment, error) {
	if err := w.fail(); err != nil {
		return payments.Payment{}, err
	}
	w.mu.Lock()
	w.charges[in.OrderID]++
	w.mu.Unlock()
	time.Sleep(w.delay)
	p, err := w.Service.Charge(ctx, in)
	return p, w.lost(err)
}

func (w *faultyWallet) chargeCalls(orderID string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.charges[orderID]
}

func (w *faultyWallet) Refund(ctx context.Context, in payments.RefundRequest) (payments.Payment, error) {
	if err := w.fail(); err != nil {
		return payments.Payment{}, err
	}
	p, err := w.Service.Refund(ctx, in)
	return p, w.lost(err)
}

func (w *faultyWallet) VoidCharge(ctx context.Context, in payments.VoidChargeRequest) (payments.Void, error) {
	if err := w.fail(); err != nil {
		return payments.Void{}, err
	}
	v, err := w.Service.VoidCharge(ctx, in)
	return v, w.lost(err)
}
