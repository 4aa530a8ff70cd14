package store

import (
	"context"

	"github.com/uptrace/bun"

	"mitosis/platform/events"
)

// Publish appends one of payments' events to its outbox, inside tx.
func Publish(ctx context.Context, tx bun.IDB, eventType, aggregateID string, payload any) error {
	return events.Append(ctx, tx, "payments", eventType, aggregateID, payload)
}
