package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The outbox's insert trigger (migration events_outbox_notify) calls
// pg_notify on this channel followed by the table's schema, once per
// inserting statement, so the notification is part of the publishing
// transaction: it is sent on commit and never for a rolled-back event.
// Channels are per database, so the schema tells the modules of one
// database apart; an isolated database has only its own.
const notifyChannelPrefix = "mitosis_outbox_"

// wakeOnNotify listens for the outbox's commit notifications on a
// connection of its own and signals wake for each (a wake already pending
// absorbs the rest). The relay still polls: a notification lost while the
// listener reconnects is picked up by the wake that follows every (re)LISTEN,
// and by the next tick in any case. It returns when ctx ends.
func (r *Relay) wakeOnNotify(ctx context.Context, wake chan<- struct{}) {
	for {
		err := r.listen(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		r.throttle.Log(ctx, slog.LevelWarn, "listen", "event relay lost its wake-up connection, polling until it is back",
			"outbox", r.module, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(r.cfg.PollInterval, time.Second)):
		}
	}
}

// listen opens a connection of its own, outside the module's pool (the
// pool's size is the module's to set, even 1), with the pool's settings
// (address, credentials, search_path), and holds it in LISTEN until it
// fails or ctx ends.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) error {
	cc, err := r.connConfig(ctx)
	if err != nil {
		return err
	}
	c, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("listener connection: %w", err)
	}
	defer func() {
		closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second) // a stop never waits on a dead server
		defer cancel()
		_ = c.Close(closing) // the listener is done either way
	}()
	return r.waitForNotifications(ctx, c, wake)
}

// connConfig is the configuration of the module's pooled connections.
func (r *Relay) connConfig(ctx context.Context) (*pgx.ConnConfig, error) {
	conn, err := r.db.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("listener connection: %w", err)
	}
	defer conn.Close() //nolint:errcheck // back to the pool
	var cc *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listener needs the pgx driver, not %T", dc)
		}
		cc = c.Conn().Config()
		return nil
	})
	return cc, err
}

func (r *Relay) waitForNotifications(ctx context.Context, c *pgx.Conn, wake chan<- struct{}) error {
	var schema string
	if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("listener schema: %w", err)
	}
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{notifyChannelPrefix + schema}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	r.throttle.Resolved(ctx, "listen", "event relay wake-up connection is back", "outbox", r.module)
	for {
		// First for whatever committed before the LISTEN took effect, then
		// for each notification.
		select {
		case wake <- struct{}{}:
		default:
		}
		if _, err := c.WaitForNotification(ctx); err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}
