package events

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// OutboxState is one local module's outbox as the console shows it: the
// backlog per subscriber, the attempts since start (for a delivery rate),
// and the dead letters with their last error.
type OutboxState struct {
	Module      string            `json:"module"`
	Unpublished int               `json:"unpublished"`
	Subscribers []SubscriberState `json:"subscribers"`
	DeadLetters []DeadLetterView  `json:"dead_letters"`
	// Error is why the outbox could not be read (its database is down).
	Error string `json:"error,omitempty"`
}

// SubscriberState is one subscriber's backlog and attempts.
type SubscriberState struct {
	Subscriber string `json:"subscriber"`
	Pending    int    `json:"pending"`
	// OldestPendingSeconds is the age of the oldest undelivered event.
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
	Dead                 int     `json:"dead"`
	Counts
}

// DeadLetterView is one dead delivery.
type DeadLetterView struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Subscriber string    `json:"subscriber"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
	OccurredAt time.Time `json:"occurred_at"`
}

// ErrNoOutbox: replay named a module whose outbox is not in this process.
var ErrNoOutbox = errors.New("no such outbox here")

// maxDeadShown bounds the dead letters listed per outbox.
const maxDeadShown = 100

// States reads every local outbox.
func (m *Metrics) States(ctx context.Context) []OutboxState {
	m.mu.Lock()
	boxes := append([]outbox(nil), m.outboxes...)
	m.mu.Unlock()
	counts := m.attempts()
	sort.Slice(boxes, func(i, j int) bool { return boxes[i].module < boxes[j].module })
	out := make([]OutboxState, 0, len(boxes))
	now := time.Now()
	for _, o := range boxes {
		st := OutboxState{Module: o.module, Subscribers: []SubscriberState{}, DeadLetters: []DeadLetterView{}}
		lags, unfanned, err := Status(ctx, o.db)
		if err != nil {
			st.Error = "the outbox could not be read"
			out = append(out, st)
			continue
		}
		st.Unpublished = unfanned
		seen := map[string]bool{}
		for _, l := range lags {
			s := SubscriberState{Subscriber: l.Subscriber, Pending: l.Pending, Dead: l.Dead, Counts: counts[[2]string{o.module, l.Subscriber}]}
			if !l.OldestPending.IsZero() {
				s.OldestPendingSeconds = now.Sub(l.OldestPending).Seconds()
			}
			seen[l.Subscriber] = true
			st.Subscribers = append(st.Subscribers, s)
		}
		for _, sub := range o.subscribers {
			if !seen[sub] {
				st.Subscribers = append(st.Subscribers, SubscriberState{Subscriber: sub, Counts: counts[[2]string{o.module, sub}]})
			}
		}
		sort.Slice(st.Subscribers, func(i, j int) bool { return st.Subscribers[i].Subscriber < st.Subscribers[j].Subscriber })
		dead, err := deadLetters(ctx, o.db, maxDeadShown)
		if err != nil {
			st.Error = "the dead letters could not be read"
		}
		for _, d := range dead {
			st.DeadLetters = append(st.DeadLetters, DeadLetterView{ID: d.ID, Type: d.Type, Subscriber: d.Subscriber,
				Attempts: d.Attempts, LastError: d.LastError, OccurredAt: d.OccurredAt})
		}
		out = append(out, st)
	}
	return out
}

// ReplayIn replays the dead deliveries of the event id (every one when id
// is empty) in module's outbox, which must be local.
func (m *Metrics) ReplayIn(ctx context.Context, module, id string) (int, error) {
	m.mu.Lock()
	var found *outbox
	for i := range m.outboxes {
		if m.outboxes[i].module == module {
			found = &m.outboxes[i]
		}
	}
	m.mu.Unlock()
	if found == nil {
		return 0, fmt.Errorf("%w: %s", ErrNoOutbox, module)
	}
	return Replay(ctx, found.db, id)
}
