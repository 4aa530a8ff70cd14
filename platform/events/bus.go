package events

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/uptrace/bun"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
)

// Handler applies one event inside tx, the subscriber's transaction that
// also records the event in its inbox.
type Handler func(ctx context.Context, tx bun.Tx, e Event) error

// BatchHandler applies several events of one type, in outbox order, inside
// tx, the subscriber's transaction that records them in its inbox: the
// set-based form of the type's Handler, with the same effect as the
// Handler applied to each event in turn. A batch never holds two events
// of one aggregate (the relay delivers those one after the other), so a
// BatchHandler may add up what commutes (counters, sums) into one
// statement.
type BatchHandler func(ctx context.Context, tx bun.Tx, es []Event) error

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
	batch    map[string]BatchHandler // by type; the others go one by one
}

// A SubscriberOption adds to a subscription.
type SubscriberOption func(*subscriber)

// BatchHandlers gives event types a set-based form (see BatchHandler).
// Each type must have a Handler too: an event that cannot be applied in a
// batch is applied alone, by its Handler.
func BatchHandlers(handlers map[string]BatchHandler) SubscriberOption {
	return func(s *subscriber) { s.batch = handlers }
}

// Bus holds the handlers of this process's subscriber modules.
type Bus struct {
	mu      sync.RWMutex
	subs    map[string]subscriber
	tracing *telemetry.Tracing // nil: handlings are not traced
	log     *slog.Logger       // nil: a batch endpoint's failures are not logged
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[string]subscriber{}} }

// Logged makes the bus's HTTP endpoints log the handling failures they
// answer per event (the server's error handler sees only whole requests).
func (b *Bus) Logged(log *slog.Logger) *Bus {
	b.log = log
	return b
}

// Subscribe registers module's handlers by event type; db is the module's
// own connection, where its inbox lives.
func (b *Bus) Subscribe(module string, db *bun.DB, handlers map[string]Handler, opts ...SubscriberOption) {
	s := subscriber{db: db, handlers: handlers}
	for _, o := range opts {
		o(&s)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[module] = s
}

// Has reports whether module subscribes in this process.
func (b *Bus) Has(module string) bool {
	_, ok := b.subscriber(module)
	return ok
}

func (b *Bus) subscriber(module string) (subscriber, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s, ok := b.subs[module]
	return s, ok
}

// Deliver hands e to module's handler, in one transaction with the inbox
// insert: an event already in the inbox is acknowledged without a second
// effect.
func (b *Bus) Deliver(ctx context.Context, module string, e Event) error {
	return b.DeliverBatch(ctx, module, []Event{e})[0]
}
