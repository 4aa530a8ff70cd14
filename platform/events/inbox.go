package events

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/db"
)

// DeliverBatch hands es to module's handlers in one transaction with
// their inbox rows, in the order given, and reports each event's outcome:
// errs[i] is es[i]'s. An event already in the inbox, or given twice, is
// acknowledged without a second effect. If that one transaction fails (a
// handler refuses an event, a deadlock), the events are applied one by
// one, each in a transaction of its own, so that an event that cannot be
// handled fails alone and the others are applied. Each event's handling
// is a span of its own, linked to the change that caused it.
func (b *Bus) DeliverBatch(ctx context.Context, module string, es []Event) (errs []error) {
	errs = make([]error, len(es))
	ctxs, spans := make([]context.Context, len(es)), make([]trace.Span, len(es))
	for i, e := range es {
		ctxs[i], spans[i] = b.startHandle(ctx, module, e)
	}
	defer func() {
		for i, span := range spans {
			endEventSpan(span, errs[i])
		}
	}()
	sub, ok := b.subscriber(module)
	if !ok {
		for i := range es {
			errs[i] = fmt.Errorf("%s: %w", module, ErrUnknownSubscriber)
		}
		return errs
	}
	// todo: the first occurrence of each event that has a handler; a
	// repeat (the same id, however spelled) takes the outcome of its first.
	var todo []int
	keys := make([]string, len(es))
	firstOf, repeats := map[string]int{}, map[int]int{}
	for i, e := range es {
		if _, ok := sub.handlers[e.Type]; !ok {
			errs[i] = fmt.Errorf("%s cannot handle %s: %w", module, e.Type, ErrNoHandler)
			continue
		}
		keys[i] = canonicalID(e.ID)
		if j, seen := firstOf[keys[i]]; seen {
			repeats[i] = j
			continue
		}
		firstOf[keys[i]] = i
		todo = append(todo, i)
	}
	var err error
	if len(todo) > 1 {
		err = sub.applyBatch(ctx, module, es, keys, todo, ctxs)
	}
	switch {
	case len(todo) > 1 && err == nil:
	case len(todo) > 1 && ctx.Err() != nil:
		for _, i := range todo {
			errs[i] = err // cut short (shutdown): nothing was applied
		}
	default: // one event, or a batch that failed: one by one
		for _, i := range todo {
			errs[i] = sub.applyOne(ctxs[i], module, es[i])
		}
	}
	for i, j := range repeats {
		errs[i] = errs[j]
	}
	return errs
}

// The inbox's inserts: one event's row, and a batch's.
const (
	inboxOne = db.Statement(`INSERT INTO event_inbox (event_id, type, source) VALUES ($1, $2, $3)
		ON CONFLICT (event_id) DO NOTHING`)
	inboxBatch = db.Statement(`INSERT INTO event_inbox (event_id, type, source)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
		ON CONFLICT (event_id) DO NOTHING RETURNING event_id::text`)
)

// applyOne applies e in a transaction of its own with its inbox row.
func (s subscriber) applyOne(ctx context.Context, module string, e Event) error {
	return InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := inboxOne.Exec(ctx, tx, e.ID, e.Type, e.Source)
		if err != nil {
			return fmt.Errorf("inbox of %s: %w", module, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already handled: nothing more to do
		}
		if err := s.handlers[e.Type](ctx, tx, e); err != nil {
			return fmt.Errorf("%s handling %s %s: %w", module, e.Type, e.ID, err)
		}
		return nil
	})
}

// applyBatch applies es[todo] in one transaction: their inbox rows in one
// statement, then the events new to the inbox, in order, each run of one
// type through its BatchHandler if it has one, else each by its Handler
// (with its own span's context).
func (s subscriber) applyBatch(ctx context.Context, module string, es []Event, keys []string, todo []int, ctxs []context.Context) error {
	return InTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		fresh, err := insertInbox(ctx, tx, es, keys, todo)
		if err != nil {
			return fmt.Errorf("inbox of %s: %w", module, err)
		}
		var news []int
		for _, i := range todo {
			if fresh[keys[i]] {
				news = append(news, i)
			}
		}
		for k := 0; k < len(news); {
			e := es[news[k]]
			bh, ok := s.batch[e.Type]
			if !ok {
				if err := s.handlers[e.Type](ctxs[news[k]], tx, e); err != nil {
					return fmt.Errorf("%s handling %s %s: %w", module, e.Type, e.ID, err)
				}
				k++
				continue
			}
			var run []Event
			for ; k < len(news) && es[news[k]].Type == e.Type; k++ {
				run = append(run, es[news[k]])
			}
			if err := bh(ctx, tx, run); err != nil {
				return fmt.Errorf("%s handling %d %s events: %w", module, len(run), e.Type, err)
			}
		}
		return nil
	})
}

// insertInbox records es[todo] in the inbox in one statement and returns
// the ids of those that were not there yet. keys are the events' ids as
// PostgreSQL spells them (canonicalID). Rows go in in id order, so two
// batches that share events take their locks in one order.
func insertInbox(ctx context.Context, tx bun.Tx, es []Event, keys []string, todo []int) (map[string]bool, error) {
	rows := slices.Clone(todo)
	slices.SortFunc(rows, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	ids, types, sources := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for k, i := range rows {
		ids[k], types[k], sources[k] = keys[i], es[i].Type, es[i].Source
	}
	var inserted []string
	if err := inboxBatch.Scan(ctx, tx, &inserted, ids, types, sources); err != nil {
		return nil, err
	}
	fresh := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		fresh[id] = true
	}
	return fresh, nil
}

// canonicalID is id as PostgreSQL spells a UUID, or id itself if it is
// none (the inbox then refuses it).
func canonicalID(id string) string {
	if u, err := uuid.Parse(id); err == nil {
		return u.String()
	}
	return id
}
