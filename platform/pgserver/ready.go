package pgserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// readyTimeout caps waiting for the first connection when the caller's
	// ctx has no deadline; start already waited until the server said it
	// was ready, so this only covers the short gap until TCP logins work.
	readyTimeout = 30 * time.Second
	// stopTimeout bounds cleanup after a failed Start.
	stopTimeout = 30 * time.Second
	readyPoll   = 50 * time.Millisecond
)

// waitReady returns once a real login to url succeeds, so callers can use
// the server immediately.
func waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			return conn.Close(ctx)
		}
		if !retryable(err) {
			return fmt.Errorf("connect to new server: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server to accept connections: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(readyPoll):
		}
	}
}

// retryable tells startup noise apart from errors that waiting won't fix,
// such as a wrong password.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P03" // cannot_connect_now: still starting up
	}
	return true
}
