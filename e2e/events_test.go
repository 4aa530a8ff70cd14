package e2e

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/platform/pgtest"
)

// TestCLIEvents shows the outbox lag and a dead letter of each bus (a
// publisher's delivery, a subscriber's own with NATS), replays them, and
// refuses a replay that names nothing.
func TestCLIEvents(t *testing.T) {
	t.Parallel()
	admin := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": admin, "SERVICE_SECRET": serviceSecret, "SIGNING_KEY_SECRET": keySecret}
	app := func(args ...string) (string, error) {
		t.Helper()
		stdout, stderr, err := runApp(t, env, args...)
		return stdout + stderr, err
	}
	out, err := app("migrate", "up")
	require.NoError(t, err, out)

	conn := connect(t, admin)
	deadID, pendingID := uuid.NewString(), uuid.NewString()
	for _, e := range []struct{ id, status, lastErr string }{{deadID, "dead", "subscriber down"}, {pendingID, "pending", ""}} {
		_, err := conn.Exec(t.Context(), `WITH o AS (
				INSERT INTO users.event_outbox (id, type, aggregate_id, source, payload, occurred_at, fanned_out_at)
				VALUES ($1::uuid, 'user.registered', $1::text, 'users', '{}', now() - interval '1 minute', now()) RETURNING seq)
			INSERT INTO users.event_deliveries (event_seq, subscriber, aggregate_id, status, attempts, last_error, next_attempt_at)
			SELECT seq, 'payments', $1::text, $2, 8, nullif($3, ''), now() + interval '1 hour' FROM o`, e.id, e.status, e.lastErr)
		require.NoError(t, err)
	}

	// With EVENTS_BROKER=nats the subscriber keeps its own dead letters.
	brokerDeadID := uuid.NewString()
	_, err = conn.Exec(t.Context(), `INSERT INTO payments.event_dead_letters
			(event_id, subscriber, type, aggregate_id, source, payload, occurred_at, attempts, last_error)
		VALUES ($1::uuid, 'payments', 'user.registered', $1::text, 'users', '{}', now(), 8, 'wallet store down')`, brokerDeadID)
	require.NoError(t, err)

	out, err = app("events", "status")
	require.NoError(t, err, out)
	require.Regexp(t, `users\s+payments\s+1\s+1m\d+s\s+1`, out)
	require.Regexp(t, `payments\s+payments\s+0\s+-\s+1`, out)
	require.Regexp(t, `orders\s+-\s+0\s+-\s+0`, out)

	out, err = app("events", "dead")
	require.NoError(t, err, out)
	require.Contains(t, out, deadID)
	require.Contains(t, out, "subscriber down")
	require.NotContains(t, out, pendingID)
	require.Contains(t, out, brokerDeadID)
	require.Contains(t, out, "wallet store down")

	for _, args := range [][]string{{}, {"--id", deadID, "--all"}, {"--id", "not-a-uuid"}} {
		out, err = app(append([]string{"events", "replay"}, args...)...)
		require.Error(t, err, "replay %v: %s", args, out)
	}
	out, err = app("events", "replay", "--id", deadID, "--module", "users")
	require.NoError(t, err, out)
	require.Contains(t, out, "users: 1 dead letter(s) back in line")
	out, err = app("events", "replay", "--all", "--module", "payments")
	require.NoError(t, err, out)
	require.Contains(t, out, "payments: 1 dead letter(s) back in line")
	out, err = app("events", "dead")
	require.NoError(t, err, out)
	require.NotContains(t, out, deadID)
	require.NotContains(t, out, brokerDeadID)
}
