package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"mitosis/modules/orders"
	"mitosis/modules/users"
)

// chaosUser is one registered customer of the load.
type chaosUser struct {
	email, password string
	id, token       string
}

// chaosOrder is an order as its client knows it. status is the last status
// answered ("" until an answer came); wantCancel is set once the client
// asked to cancel it.
type chaosOrder struct {
	user       *chaosUser
	key        string
	items      []orders.Item
	id, status string
	total      int64
	wantCancel bool
	sends      int // POSTs of it, the first and those again with its key
}

// chaosDeposit is a deposit and whether the client saw it acknowledged.
type chaosDeposit struct {
	user   *chaosUser
	key    string
	amount int64
	acked  bool
}

// chaosLoad drives registrations, deposits, orders and cancellations and
// remembers what every one of them should have become.
type chaosLoad struct {
	c       *chaosClient
	topo    topology
	catalog []orders.Product

	mu       sync.Mutex
	users    []*chaosUser
	orders   []*chaosOrder
	deposits []*chaosDeposit
	failures []string // answers a valid request must never get
	// claimed counts registrations answered 409 users.email_taken only
	// once resent, and proved ours by logging in with their password.
	claimed int
}

// chaosPatience is how long a worker repeats one request before leaving it
// to the settle phase.
const chaosPatience = 30 * time.Second

func (l *chaosLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
}

// worker runs operations until ctx ends, finishing the one in flight.
func (l *chaosLoad) worker(ctx context.Context, n int, pause time.Duration) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	var mine []*chaosUser
	for i := 0; ctx.Err() == nil; i++ {
		switch r := rng.IntN(100); {
		case len(mine) == 0 || r < 8:
			if u := l.register(fmt.Sprintf("chaos-%d-%d@example.com", n, i)); u != nil {
				mine = append(mine, u)
				l.deposit(u, 20000+rng.Int64N(40000))
			}
		case r < 25:
			l.deposit(mine[rng.IntN(len(mine))], 5000+rng.Int64N(25000))
		case r < 85:
			l.order(mine[rng.IntN(len(mine))], l.items(rng))
		default:
			l.cancelOne(mine[rng.IntN(len(mine))])
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// items picks one or two catalog lines.
func (l *chaosLoad) items(rng *rand.Rand) []orders.Item {
	var out []orders.Item
	for _, i := range rng.Perm(len(l.catalog))[:1+rng.IntN(2)] {
		out = append(out, orders.Item{SKU: l.catalog[i].SKU, Quantity: 1 + rng.IntN(2)})
	}
	return out
}

// register creates a user and issues its token; nil if that failed.
func (l *chaosLoad) register(email string) *chaosUser {
	u := &chaosUser{email: email, password: "chaos password " + email}
	return l.signIn(u, l.c.do(chaosPatience, http.MethodPost, l.topo.users+"/api/v1/users", "", "",
		map[string]string{"email": u.email, "name": "Chaos", "password": u.password}))
}

// signIn takes the answer to u's registration, issues u's token and reads
// its id; nil if that failed.
func (l *chaosLoad) signIn(u *chaosUser, a answer) *chaosUser {
	email := u.email
	// A 409 is ours only after a resend (the first attempt got no answer or
	// a 5xx, yet registered the email), and only if our password logs in.
	taken := a.status == http.StatusConflict && a.attempts > 1 && a.code() == users.ErrEmailTaken.Code
	if a.status != http.StatusCreated && !taken {
		l.fail("register %s: %d after %d sends: %s", email, a.status, a.attempts, a.body)
		return nil
	}
	a = l.c.do(chaosPatience, http.MethodPost, l.topo.users+"/api/v1/auth/token", "", "",
		map[string]string{"email": u.email, "password": u.password})
	var tok users.Token
	if a.status != http.StatusOK || !a.decode(&tok) {
		l.fail("token for %s (registration answered %t 409 after a resend): %d %s", email, taken, a.status, a.body)
		return nil
	}
	if taken {
		l.mu.Lock()
		l.claimed++
		l.mu.Unlock()
	}
	u.token = tok.AccessToken
	a = l.c.do(chaosPatience, http.MethodGet, l.topo.users+"/api/v1/users/me", u.token, "", nil)
	var me users.Me
	if a.status != http.StatusOK || !a.decode(&me) {
		l.fail("me of %s: %d %s", email, a.status, a.body)
		return nil
	}
	u.id = me.ID
	l.mu.Lock()
	l.users = append(l.users, u)
	l.mu.Unlock()
	return u
}

// deposit credits the user's wallet under a fresh key.
func (l *chaosLoad) deposit(u *chaosUser, cents int64) {
	d := &chaosDeposit{user: u, key: uuid.NewString(), amount: cents}
	l.mu.Lock()
	l.deposits = append(l.deposits, d)
	l.mu.Unlock()
	l.sendDeposit(d, chaosPatience)
}

func (l *chaosLoad) sendDeposit(d *chaosDeposit, patience time.Duration) {
	a := l.c.do(patience, http.MethodPost, l.topo.payments+"/api/v1/wallet/deposits", d.user.token, d.key,
		map[string]int64{"amount_cents": d.amount})
	switch {
	case a.status == http.StatusCreated:
		l.mu.Lock()
		d.acked = true
		l.mu.Unlock()
	case !a.retryable():
		l.fail("deposit %s: %d %s", d.key, a.status, a.body)
	}
}

// order places an order under a fresh key.
func (l *chaosLoad) order(u *chaosUser, items []orders.Item) *chaosOrder {
	o := &chaosOrder{user: u, key: uuid.NewString(), items: items}
	l.mu.Lock()
	l.orders = append(l.orders, o)
	l.mu.Unlock()
	l.place(o, chaosPatience)
	return o
}

// place sends (or resends, with the same key) the order until it is
// answered; 201 and 202 both carry the order.
func (l *chaosLoad) place(o *chaosOrder, patience time.Duration) {
	a := l.c.do(patience, http.MethodPost, l.topo.orders+"/api/v1/orders", o.user.token, o.key,
		map[string]any{"items": o.items})
	l.mu.Lock()
	o.sends += a.attempts
	l.mu.Unlock()
	var got orders.Order
	switch {
	case (a.status == http.StatusCreated || a.status == http.StatusAccepted) && a.decode(&got):
		l.record(o, got)
	case !a.retryable():
		l.fail("order %s: %d %s", o.key, a.status, a.body)
	}
}

// poll reads an order the server accepted as pending.
func (l *chaosLoad) poll(o *chaosOrder) {
	a := l.c.once(http.MethodGet, l.topo.orders+"/api/v1/orders/"+o.id, o.user.token, "", nil)
	var got orders.Order
	if a.status == http.StatusOK && a.decode(&got) {
		l.record(o, got)
	} else if !a.retryable() {
		l.fail("get order %s: %d %s", o.id, a.status, a.body)
	}
}

func (l *chaosLoad) record(o *chaosOrder, got orders.Order) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o.id, o.status, o.total = got.ID, got.Status, got.TotalCents
}

// cancelOne cancels one of the user's confirmed orders, if any.
func (l *chaosLoad) cancelOne(u *chaosUser) {
	l.mu.Lock()
	i := slices.IndexFunc(l.orders, func(o *chaosOrder) bool {
		return o.user == u && o.status == orders.StatusConfirmed && !o.wantCancel
	})
	var o *chaosOrder
	if i >= 0 {
		o = l.orders[i]
		o.wantCancel = true
	}
	l.mu.Unlock()
	if o != nil {
		l.cancel(o, chaosPatience)
	}
}

func (l *chaosLoad) cancel(o *chaosOrder, patience time.Duration) {
	a := l.c.do(patience, http.MethodPost, l.topo.orders+"/api/v1/orders/"+o.id+"/cancel", o.user.token, "", nil)
	var got orders.Order
	switch {
	case a.status == http.StatusOK && a.decode(&got):
		l.record(o, got)
	case a.status == http.StatusAccepted && a.decode(&got) && got.Status == orders.StatusConfirmed:
		l.record(o, got) // recorded, its refund waits: settle asks again
	case !a.retryable():
		l.fail("cancel %s: %d %s", o.id, a.status, a.body)
	}
}

// settled reports whether the order reached what its client asked for.
func (o *chaosOrder) settled() bool {
	switch o.status {
	case orders.StatusCancelled:
		return true
	case orders.StatusConfirmed:
		return !o.wantCancel
	}
	return false
}

// settle finishes what the load left open, as a client would: deposits and
// orders without an answer are resent with their keys, orders accepted as
// pending are polled, and cancellations are repeated. It returns what is
// still open at the deadline.
func (l *chaosLoad) settle(timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var open []string
		l.mu.Lock()
		deposits := slices.Clone(l.deposits)
		all := slices.Clone(l.orders)
		l.mu.Unlock()
		for _, d := range deposits {
			l.mu.Lock()
			acked := d.acked
			l.mu.Unlock()
			if !acked {
				l.sendDeposit(d, time.Second)
				open = append(open, "deposit "+d.key)
			}
		}
		for _, o := range all {
			l.mu.Lock()
			id, status, settled := o.id, o.status, o.settled()
			l.mu.Unlock()
			switch {
			case settled:
				continue
			case id == "":
				l.place(o, time.Second)
			case status == orders.StatusPending:
				l.poll(o)
			default: // confirmed, cancellation asked
				l.cancel(o, time.Second)
			}
			open = append(open, fmt.Sprintf("order %s (%s, %q)", o.key, id, status))
		}
		if len(open) == 0 || time.Now().After(deadline) {
			return open
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// probe places an order for the probe user (its wallet holds plenty) and
// reads the user back, until both succeed; it returns when they did.
func (l *chaosLoad) probe(u *chaosUser, cheapest orders.Item, until time.Time) (time.Time, bool) {
	o := &chaosOrder{user: u, key: uuid.NewString(), items: []orders.Item{cheapest}}
	l.mu.Lock()
	l.orders = append(l.orders, o)
	l.mu.Unlock()
	for time.Now().Before(until) {
		l.mu.Lock()
		done := o.status == orders.StatusConfirmed
		l.mu.Unlock()
		if !done {
			l.place(o, 0)
			l.mu.Lock()
			done = o.status == orders.StatusConfirmed
			l.mu.Unlock()
		}
		if done && l.c.once(http.MethodGet, l.topo.users+"/api/v1/users/me", u.token, "", nil).status == http.StatusOK {
			return time.Now(), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Time{}, false
}
