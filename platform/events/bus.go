package events

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/uptrace/bun"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
)

// Handler applies one event inside tx, the subscriber's transaction that
// also records the event in its inbox.
type Handler func(ctx context.Context, tx bun.Tx, e Event) error

// Errors of event delivery, as the receiving process reports them.
var (
	// ErrUnknownSubscriber means the named module does not run in the
	// process that received the event.
	ErrUnknownSubscriber = problem.New("events.unknown_subscriber", http.StatusNotFound, "Subscriber not here")
	// ErrNoHandler means the subscriber has no handler for the event type.
	ErrNoHandler = problem.New("events.no_handler", http.StatusUnprocessableEntity, "No handler for this event type")
)

// Errors lists the errors of delivery, for clients decoding codes.
var Errors = []*problem.Error{ErrUnknownSubscriber, ErrNoHandler}

type subscriber struct {
	db       *bun.DB
	handlers map[string]Handler
}

// Bus holds the handlers of this process's subscriber modules.
type Bus struct {
	mu      sync.RWMutex
	subs    map[string]subscriber
	tracing *telemetry.Tracing // nil: handlings are not traced
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[string]subscriber{}} }

// Subscribe registers module's handlers by event type; db is the module's
// own connection, where its inbox lives.
func (b *Bus) Subscribe(module string, db *bun.DB, handlers map[string]Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[module] = subscriber{db: db, handlers: handlers}
}

// Has reports whether module subscribes in this process.
func (b *Bus) Has(module string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, ok := b.subs[module]
	return ok
}

// Deliver hands e to module's handler, in one transaction with the inbox
// insert: an event already in the inbox is acknowledged without a second
// effect.
func (b *Bus) Deliver(ctx context.Context, module string, e Event) (err error) {
	ctx, span := b.startHandle(ctx, module, e)
	defer func() { endEventSpan(span, err) }()
	b.mu.RLock()
	sub, ok := b.subs[module]
	b.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%s: %w", module, ErrUnknownSubscriber)
	}
	h, ok := sub.handlers[e.Type]
	if !ok {
		return fmt.Errorf("%s cannot handle %s: %w", module, e.Type, ErrNoHandler)
	}
	return sub.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`INSERT INTO event_inbox (event_id, type, source) VALUES (?, ?, ?)
			ON CONFLICT (event_id) DO NOTHING`, e.ID, e.Type, e.Source).Exec(ctx)
		if err != nil {
			return fmt.Errorf("inbox of %s: %w", module, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already handled: nothing more to do
		}
		if err := h(ctx, tx, e); err != nil {
			return fmt.Errorf("%s handling %s %s: %w", module, e.Type, e.ID, err)
		}
		return nil
	})
}
