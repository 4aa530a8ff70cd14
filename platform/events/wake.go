package events

import (
	"context"
	"database/sql"
	"sync"

	"github.com/uptrace/bun"
)

// Wake is the in-process wake-up of one module's relay. The module's
// outbox is written only by the module, and its relay runs wherever the
// module runs, so the writer can wake the relay itself once the appending
// transaction has committed: no PostgreSQL NOTIFY, whose commits
// PostgreSQL serialises (see BENCHMARKS.md, "The wake-up caps the
// publishers"). The poll stays the safety net for what no Wake sees (a
// writer in another process, a transaction not run by InTx).
//
// A Wake is a query hook on the module's *bun.DB (NewWake installs it):
// InTx finds it there when the transaction begins, and it sees
// AppendEvent's insert, so neither the stores nor Append need it passed
// to them.
type Wake struct {
	ch chan struct{}
	mu sync.Mutex
	// open holds the transactions InTx runs on this DB now, true once
	// one appended an event.
	open map[*sql.Tx]bool
	// subscribers, when set (FanOutOnWrite), names the subscribers of an
	// event type, whose deliveries AppendEvent writes with the event.
	subscribers func(eventType string) []string
}

// FanOutOnWrite makes the events appended in InTx's transactions on this
// DB carry their deliveries, one per subscriber, written in the event's
// own statement and marked fanned out: the relay's delivery round, woken
// by the commit, finds them due, with no fan-out round (a transaction of
// four statements per commit under load) between the commit and the
// subscriber. With PostgreSQL as the bus only (a broker's relay publishes
// the outbox itself). What no Wake sees (a writer in another process, an
// insert outside InTx) the relay still fans out, on its poll. Call it
// before the DB is in use.
func (w *Wake) FanOutOnWrite(subscribers func(eventType string) []string) {
	w.subscribers = subscribers
}

// FansOutOnWrite reports whether FanOutOnWrite was called.
func (w *Wake) FansOutOnWrite() bool { return w.subscribers != nil }

// fanOutOnWrite returns the subscribers of eventType when AppendEvent on
// idb runs in InTx's transaction on a DB whose Wake fans out on write.
func fanOutOnWrite(ctx context.Context, idb bun.IDB, eventType string) ([]string, bool) {
	t, ok := ctx.Value(txWatchKey{}).(*txWatch)
	if !ok || t.wake == nil || t.wake.subscribers == nil || t.tx == nil {
		return nil, false
	}
	var tx *sql.Tx
	switch x := idb.(type) {
	case bun.Tx:
		tx = x.Tx
	case *bun.Tx:
		tx = x.Tx
	}
	if tx != t.tx { // not InTx's own transaction: leave it to the relay
		return nil, false
	}
	subs := t.wake.subscribers(eventType)
	if subs == nil {
		subs = []string{}
	}
	return subs, true
}

// NewWake returns the wake-up of the relay of the outbox on db, installed
// on db (before db is in use: bun's hooks are not synchronised).
func NewWake(db *bun.DB) *Wake {
	w := &Wake{ch: make(chan struct{}, 1), open: map[*sql.Tx]bool{}}
	db.AddQueryHook(w)
	return w
}

// Ring wakes the relay without blocking: a wake already pending absorbs
// this one, the round it starts reads whatever committed before it.
func (w *Wake) Ring() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// C is what the relay waits on.
func (w *Wake) C() <-chan struct{} { return w.ch }

func (w *Wake) begin(tx *sql.Tx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open[tx] = false
}

// end forgets tx and reports whether it appended.
func (w *Wake) end(tx *sql.Tx) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	appended := w.open[tx]
	delete(w.open, tx)
	return appended
}

func (w *Wake) appended(tx *sql.Tx) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.open[tx]; ok {
		w.open[tx] = true
	}
}

// txWatch is InTx's transaction as the hook sees it: the hook sets wake
// at BEGIN, when the DB has one, and InTx then tx.
type txWatch struct {
	wake *Wake
	tx   *sql.Tx
}

type txWatchKey struct{}

// appendKey marks AppendEvent's insert with the transaction it runs in
// (nil: none, the insert commits alone).
type appendKey struct{}

type appendIn struct{ tx *sql.Tx }

// BeforeQuery hands the Wake to InTx's transaction.
func (w *Wake) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if ev.Query == "BEGIN" {
		if t, ok := ctx.Value(txWatchKey{}).(*txWatch); ok {
			t.wake = w
		}
	}
	return ctx
}

// AfterQuery records an event appended: in InTx's transaction, to wake
// after its commit; alone, committed already, at once.
func (w *Wake) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	a, ok := ctx.Value(appendKey{}).(appendIn)
	if !ok || ev.Err != nil {
		return
	}
	if a.tx == nil {
		w.Ring()
		return
	}
	w.appended(a.tx)
}

// InTx runs fn in a transaction on db, a module's connection, and if fn
// appended to the module's outbox (Append or AppendEvent on tx) wakes the
// module's relay once the transaction has committed: never for one
// rolled back. An event appended with fn's ctx carries its deliveries
// (FanOutOnWrite); with another ctx the relay fans it out, on its poll.
// It is db.RunInTx otherwise (on a DB without a Wake, only that). Every
// transaction that may append an event should run here, or its events
// wait for the relay's poll.
func InTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	t := &txWatch{}
	var sqlTx *sql.Tx
	committed := false
	defer func() { // also after a panic in fn: the transaction is over either way
		if t.wake != nil && sqlTx != nil && t.wake.end(sqlTx) && committed {
			t.wake.Ring()
		}
	}()
	err := db.RunInTx(context.WithValue(ctx, txWatchKey{}, t), nil, func(ctx context.Context, tx bun.Tx) error {
		if t.wake != nil {
			sqlTx = tx.Tx
			t.tx = sqlTx
			t.wake.begin(sqlTx)
		}
		return fn(ctx, tx)
	})
	committed = err == nil
	return err
}

// markAppend is the context of AppendEvent's insert on idb, which tells a
// Wake what it appended to.
func markAppend(ctx context.Context, idb bun.IDB) context.Context {
	a := appendIn{}
	switch tx := idb.(type) {
	case bun.Tx:
		a.tx = tx.Tx
	case *bun.Tx:
		a.tx = tx.Tx
	case *bun.DB:
	default:
		return ctx // a connection of its own (bun.Conn): nothing to tell
	}
	return context.WithValue(ctx, appendKey{}, a)
}
