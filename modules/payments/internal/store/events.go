package store

import (
	"context"

	"github.com/uptrace/bun"

	"mitosis/modules/users"
	"mitosis/platform/events"
)

// Publish appends one of payments' events to its outbox, inside tx.
func Publish(ctx context.Context, tx bun.IDB, eventType, aggregateID string, payload any) error {
	return events.Append(ctx, tx, "payments", eventType, aggregateID, payload)
}

// Handlers are the payments module's subscriptions: a wallet opens when a
// user registers (and, as before, on first use if the event is still on
// its way).
func Handlers() map[string]events.Handler {
	return map[string]events.Handler{
		users.EventUserRegistered: func(ctx context.Context, tx bun.Tx, e events.Event) error {
			var p users.UserRegistered
			if err := e.Decode(&p); err != nil {
				return err
			}
			return OpenWallet(ctx, tx, p.UserID)
		},
	}
}
