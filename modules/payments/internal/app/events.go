package app

import (
	"context"

	"github.com/uptrace/bun"

	"mitosis/modules/payments/internal/store"
	"mitosis/modules/users"
	"mitosis/platform/events"
)

// Handlers are the payments module's subscriptions: a wallet opens when a
// user registers (and, as before, on first use if the event is still on
// its way). Each runs in the inbox transaction.
func Handlers() map[string]events.Handler {
	return map[string]events.Handler{
		users.EventUserRegistered: func(ctx context.Context, tx bun.Tx, e events.Event) error {
			var p users.UserRegistered
			if err := e.Decode(&p); err != nil {
				return err
			}
			return store.OpenWallet(ctx, tx, p.UserID)
		},
	}
}
