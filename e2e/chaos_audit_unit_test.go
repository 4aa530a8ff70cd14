package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
	"mitosis/platform/pgtest"
)

// TestChaosAuditFindsBrokenData proves the chaos suite's checks can fail:
// on a migrated, empty database they all pass; on data broken in each of
// the ways chaos could break it, each one names the break.
func TestChaosAuditFindsBrokenData(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	_, stderr, err := runApp(t, map[string]string{"DATABASE_URL": dbURL}, "migrate", "up")
	require.NoError(t, err, stderr)
	conn := connect(t, dbURL)
	checks := chaosChecks()

	failures, err := audit(t.Context(), conn, checks)
	require.NoError(t, err)
	require.Empty(t, failures, "an empty database breaks nothing")
	undelivered := undeliveredQuery(modules.All())
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), undelivered).Scan(&n))
	require.Zero(t, n, "nothing to deliver in an empty database")

	const (
		ann   = "00000000-0000-4000-8000-00000000000a"
		bob   = "00000000-0000-4000-8000-00000000000b"
		o1    = "00000000-0000-4000-8000-000000000001" // confirmed, charged twice
		o2    = "00000000-0000-4000-8000-000000000002" // cancelled, still charged
		o3    = "00000000-0000-4000-8000-000000000003" // left pending
		p1    = "00000000-0000-4000-8000-0000000000f1"
		p2    = "00000000-0000-4000-8000-0000000000f2"
		p3    = "00000000-0000-4000-8000-0000000000f3"
		p4    = "00000000-0000-4000-8000-0000000000f4" // of no order
		lost  = "00000000-0000-4000-8000-0000000000d1"
		stray = "00000000-0000-4000-8000-0000000000e1"
	)
	_, err = conn.Exec(t.Context(), strings.NewReplacer("ANN", ann, "BOB", bob, "O1", o1, "O2", o2, "O3", o3,
		"P1", p1, "P2", p2, "P3", p3, "P4", p4, "LOST", lost, "STRAY", stray).Replace(`
		INSERT INTO users.users (id, email, name, password_hash) VALUES ('ANN', 'ann@example.com', 'Ann', 'x'), ('BOB', 'bob@example.com', 'Bob', 'x');
		-- bob never got a wallet; ann's balance lost 100 cents the ledger knows of.
		INSERT INTO payments.wallets (user_id, balance_cents) VALUES ('ANN', 7000);
		INSERT INTO payments.ledger_entries (user_id, kind, amount_cents, idempotency_key) VALUES ('ANN', 'deposit', 10000, 'd1');
		INSERT INTO orders.orders (id, customer_id, status, total_cents, payment_id, request_hash) VALUES
			('O1', 'ANN', 'confirmed', 1000, 'P1', 'h'), ('O2', 'ANN', 'cancelled', 900, NULL, 'h'), ('O3', 'BOB', 'pending', 500, NULL, 'h');
		INSERT INTO payments.payments (id, user_id, order_id, amount_cents, status, idempotency_key) VALUES
			('P1', 'ANN', 'O1', 1000, 'captured', 'k1'), ('P2', 'ANN', 'O1', 1000, 'captured', 'k2'), ('P3', 'ANN', 'O2', 900, 'captured', 'k3'),
			('P4', 'ANN', 'LOST', 100, 'captured', 'k4');
		UPDATE orders.orders SET failure_reason = 'cancelled_by_customer' WHERE id = 'O2';
		INSERT INTO payments.ledger_entries (user_id, kind, amount_cents, payment_id) VALUES
			('ANN', 'charge', -1000, 'P1'), ('ANN', 'charge', -1000, 'P2'), ('ANN', 'charge', -900, 'P3'), ('ANN', 'refund', 900, 'P3'), ('ANN', 'charge', -100, 'P4');
		-- ann's stats count one order too many.
		INSERT INTO users.order_stats (user_id, orders_confirmed, total_spent_cents) VALUES ('ANN', 2, 2000);
		-- an event never fanned out, one delivered to users but absent from its inbox, one dead letter,
		-- and an inbox entry nothing delivered.
		INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at, fanned_out_at) VALUES
			(gen_random_uuid(), 'order.placed', 'O1', 'orders', '{}', now(), NULL),
			(gen_random_uuid(), 'order.confirmed', 'O1', 'orders', '{}', now(), now()),
			(gen_random_uuid(), 'order.cancelled', 'O2', 'orders', '{}', now(), now());
		INSERT INTO orders.event_deliveries (event_seq, subscriber, aggregate_id, status, attempts)
			SELECT seq, 'users', aggregate_id, CASE type WHEN 'order.confirmed' THEN 'delivered' ELSE 'dead' END, 8
			FROM orders.event_outbox WHERE fanned_out_at IS NOT NULL;
		INSERT INTO users.event_outbox (id, type, aggregate_id, source, payload, occurred_at, fanned_out_at) VALUES
			(gen_random_uuid(), 'user.registered', 'ANN', 'users', '{}', now(), now());
		INSERT INTO payments.event_inbox (event_id, type, source) VALUES ('STRAY', 'user.registered', 'users');
		-- o1 wants two coffees but holds them reserved, not sold; o2 was cancelled but its mug stays sold,
		-- and neither count in stock says so. The stock's CHECKs are lifted, to break a row as they forbid.
		INSERT INTO orders.order_items (order_id, line, sku, name, quantity, unit_price_cents) VALUES ('O1', 1, 'COFFEE-1KG', 'Coffee', 2, 500);
		INSERT INTO inventory.reservations (order_id, status) VALUES ('O1', 'reserved'), ('O2', 'committed');
		INSERT INTO inventory.reservation_lines (order_id, sku, quantity) VALUES ('O1', 'COFFEE-1KG', 2), ('O2', 'MUG-CERAMIC', 1);
		ALTER TABLE inventory.stock DROP CONSTRAINT stock_available_check, DROP CONSTRAINT stock_check;
		INSERT INTO inventory.stock (sku, stocked, available) VALUES ('BROKEN', 5, -1);
	`))
	require.NoError(t, err)

	require.NoError(t, conn.QueryRow(t.Context(), undelivered).Scan(&n))
	assert.Equal(t, 1, n, "the event never fanned out (the other deliveries are delivered or dead, none pending)")

	failures, err = audit(t.Context(), conn, checks)
	require.NoError(t, err)
	report := strings.Join(failures, "\n")
	wants := []string{
		"money is conserved: deposits = balances + charges - refunds: 1 rows, e.g. deposits 10000 <> balances 7000 + charges 3000 - refunds 900",
		"each wallet's balance is the sum of its ledger entries: 1 rows, e.g. wallet " + ann + ": balance 7000, entries 7900",
		"each payment is one charge, and one refund if refunded: 1 rows, e.g. payment " + p3 + " (captured, 900 cents): ledger net 0 in 2 entries",
		"every payment belongs to an order: 1 rows, e.g. payment " + p4 + " of missing order " + lost,
		"no order stays pending: 1 rows, e.g. order " + o3,
		"a confirmed order has exactly one net charge, equal to its total: 1 rows, e.g. order " + o1 + " confirmed: 2 net charges of 2000 cents",
		"a cancelled order has no net charge: 1 rows, e.g. order " + o2 + " cancelled: 1 net charges of 900 cents",
		"every user has a wallet: 1 rows, e.g. user " + bob + " has no wallet",
		"users' order statistics agree with the confirmed orders: 1 rows, e.g. user " + ann + ": stats 2 orders / 2000 cents, orders say 1 / 1000",
		"one event per change: user.registered per user: 1 rows, e.g. user.registered of " + bob,
		"one event per change: order.placed per order: 2 rows",
		"one event per change: order.confirmed per order once confirmed: 1 rows, e.g. order.confirmed of " + o2 + ": 0 events, want 1",
		"one event per change: payment.captured per payment: 4 rows",
		"every subscribed event has a delivery per subscriber: 1 rows, e.g. users event",
		"every outbox event is fanned out: 1 rows, e.g. orders event",
		"every delivery is done: none pending, no dead letter: 1 rows",
		"every delivered event is in its subscriber's inbox: 1 rows",
		"no inbox entry without a delivery: 1 rows, e.g. payments inbox holds " + stray,
		"stock is never negative: 1 rows, e.g. sku BROKEN: available -1, reserved 0, sold 0",
		"per SKU, available + reserved + sold = stocked: 1 rows, e.g. sku BROKEN: -1 + 0 + 0 <> stocked 5",
		"per SKU, reserved and sold are what its reservations hold: 2 rows, e.g. sku COFFEE-1KG: reserved 0, sold 0; reservations hold 2, 0",
		"a confirmed order holds exactly its items' stock, sold: 1 rows, e.g. order " + o1 + " confirmed: holds 0 of COFFEE-1KG, wants 2",
		"a cancelled order holds no stock: 1 rows, e.g. order " + o2 + " cancelled: its reservation is committed, holding 1",
	}
	for _, want := range wants {
		assert.Contains(t, report, want)
	}
	// Only the order.cancelled and payment.refunded counts hold here.
	assert.Len(t, failures, len(wants), "%s", report)
	assert.Len(t, checks, len(wants)+2)
}

// TestChaosNATSAuditFindsBrokenEvents proves the delivery checks of the
// chaos suite's NATS run can fail: on an empty migrated database they
// pass; an event never published, one published but never in its
// subscriber's inbox, a dead letter and an inbox entry no event explains
// are each named.
func TestChaosNATSAuditFindsBrokenEvents(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	_, stderr, err := runApp(t, map[string]string{"DATABASE_URL": dbURL}, "migrate", "up")
	require.NoError(t, err, stderr)
	conn := connect(t, dbURL)
	checks := natsEventChecks(modules.All())
	failures, err := audit(t.Context(), conn, checks)
	require.NoError(t, err)
	require.Empty(t, failures, "an empty database breaks nothing")

	const (
		unpublished = "00000000-0000-4000-8000-0000000000a1"
		lost        = "00000000-0000-4000-8000-0000000000a2"
		dead        = "00000000-0000-4000-8000-0000000000a3"
		stray       = "00000000-0000-4000-8000-0000000000a4"
	)
	_, err = conn.Exec(t.Context(), strings.NewReplacer("UNPUBLISHED", unpublished, "LOST", lost, "DEAD", dead, "STRAY", stray).Replace(`
		INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at, fanned_out_at) VALUES
			('UNPUBLISHED', 'order.placed', 'o', 'orders', '{}', now(), NULL),
			('LOST', 'order.confirmed', 'o', 'orders', '{}', now(), now());
		INSERT INTO payments.event_dead_letters (event_id, subscriber, type, aggregate_id, source, payload, occurred_at, attempts, last_error)
			VALUES ('DEAD', 'payments', 'user.registered', 'u', 'users', '{}', now(), 8, 'boom');
		INSERT INTO users.event_inbox (event_id, type, source) VALUES ('STRAY', 'order.confirmed', 'orders');
	`))
	require.NoError(t, err)
	failures, err = audit(t.Context(), conn, checks)
	require.NoError(t, err)
	report := strings.Join(failures, "\n")
	wants := []string{
		"every outbox event is published: 1 rows, e.g. orders event " + unpublished + " (order.placed) not published",
		"every subscribed event is in its subscriber's inbox: 1 rows, e.g. orders event " + lost + " (order.confirmed) not in the inbox of users",
		"no dead letter: 1 rows, e.g. payments dead letter " + dead + " (user.registered): boom after 8 attempts",
		"no inbox entry without a subscribed event: 1 rows, e.g. users inbox holds " + stray + " (order.confirmed) that no subscribed event explains",
	}
	for _, want := range wants {
		assert.Contains(t, report, want)
	}
	assert.Len(t, failures, len(wants), "%s", report)
}
