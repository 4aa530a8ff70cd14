package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/modules/orders/internal/store"
)

// productsRead is the catalog's read, which the count leaves out: it is a
// copy at most a second old, read or not by chance.
func productsRead(q string) bool { return strings.Contains(q, `FROM "PRODUCTS"`) }

// The saga's paths send no more statements and durable commits to orders'
// database than they do since the order is settled in one statement (its
// lock, status and previous state), a record's step entries are one
// INSERT, and a new order is stored with its items, and its saga with its
// first entry, each in one statement (issue 12; one order of one item;
// before: 19/3, 17/3, 27/5, 17/3, 5/2, 9/2 and 9/1; before confirm was
// recorded with the charge 24/4, 17/3, 29/5, 19/3, 5/2, 12/3 and 9/1): a
// change that adds a round trip or a commit to the order path fails here,
// not in a load run.
func TestTheSagaPathsStayWithinTheirStatementBudget(t *testing.T) {
	e := newEnv(t, sagaConfig())
	count := modulestest.Statements{Skip: productsRead}
	svc := app.New(store.New(e.db.WithQueryHook(&count)), &e.customers, e.wallet, e.stock, e.cfg, app.Telemetry{})
	alice, poor := e.customer(t, 50000), e.customer(t, 1)
	e.place(t, svc, alice) // the catalog's copy is read
	count.Take()

	budget := func(name string, max [2]int) {
		t.Helper()
		got := count.Take()
		t.Logf("%s: %d statements, %d durable commits", name, got.Statements, got.Commits)
		assert.LessOrEqual(t, got.Statements, max[0], "%s: statements", name)
		assert.LessOrEqual(t, got.Commits, max[1], "%s: durable commits", name)
	}

	o := e.place(t, svc, alice)
	require.Equal(t, orders.StatusConfirmed, o.Status)
	budget("placed and confirmed inline", [2]int{11, 3})

	_, err := svc.CancelOrder(e.ctx, orders.CancelOrderRequest{CustomerID: alice, OrderID: o.ID})
	require.NoError(t, err)
	budget("cancelled and refunded inline", [2]int{11, 3})

	o = e.place(t, svc, poor)
	require.Equal(t, orders.StatusCancelled, o.Status)
	budget("cancelled for insufficient funds inline", [2]int{13, 5})

	e.wallet.down.Store(true)
	o = e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	budget("left pending, the charge rescheduled", [2]int{9, 3})
	w := app.NewWorker(svc, quiet())
	claimed := func() {
		require.Eventually(t, func() bool { // the retry is due after its backoff
			count.Take() // a pass that claims nothing is not this order's
			n, err := w.RunOnce(e.ctx)
			require.NoError(t, err)
			return n == 1
		}, 10*time.Second, 20*time.Millisecond)
	}
	claimed()
	budget("retried by the worker, payments still down", [2]int{5, 2})
	e.wallet.down.Store(false)
	claimed()
	budget("confirmed by the worker", [2]int{6, 2})

	e.customers.down.Store(true)
	o = e.place(t, svc, alice)
	require.Equal(t, orders.StatusPending, o.Status)
	budget("left pending, the customer unchecked", [2]int{7, 1})
	e.customers.down.Store(false)
}
