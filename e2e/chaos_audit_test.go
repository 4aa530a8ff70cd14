package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"mitosis/modules"
	"mitosis/platform/config"
	platformtopology "mitosis/platform/topology"
)

// auditCheck is one invariant of the data after the chaos: a query that
// returns one line per row breaking it, so an empty answer is a pass.
type auditCheck struct {
	name string
	sql  string
}

// chaosChecks are the invariants the chaos suite asserts, read across every
// module's schema as the database administrator (the auditor may do what
// modules may not), with the PostgreSQL bus.
func chaosChecks() []auditCheck { return append(dataChecks(), eventChecks(modules.All())...) }

// chaosChecksNATS are chaosChecks with EVENTS_BROKER=nats, whose deliveries
// leave no rows of their own.
func chaosChecksNATS() []auditCheck { return append(dataChecks(), natsEventChecks(modules.All())...) }

// dataChecks are the invariants of money, orders and the one event per
// change, whatever carries the events.
func dataChecks() []auditCheck {
	checks := []auditCheck{
		{"money is conserved: deposits = balances + charges - refunds", `
			SELECT format('deposits %s <> balances %s + charges %s - refunds %s', d, b, c, r) FROM (SELECT
				(SELECT coalesce(sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'deposit') AS d,
				(SELECT coalesce(sum(balance_cents), 0) FROM payments.wallets) AS b,
				(SELECT coalesce(-sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'charge') AS c,
				(SELECT coalesce(sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'refund') AS r) x
			WHERE d <> b + c - r`},
		{"each wallet's balance is the sum of its ledger entries", `
			SELECT format('wallet %s: balance %s, entries %s', w.user_id, w.balance_cents, coalesce(e.s, 0))
			FROM payments.wallets w LEFT JOIN (SELECT user_id, sum(amount_cents) AS s FROM payments.ledger_entries GROUP BY user_id) e USING (user_id)
			WHERE w.balance_cents <> coalesce(e.s, 0)`},
		{"each payment is one charge, and one refund if refunded", `
			SELECT format('payment %s (%s, %s cents): ledger net %s in %s entries', p.id, p.status, p.amount_cents, coalesce(sum(e.amount_cents), 0), count(e.id))
			FROM payments.payments p LEFT JOIN payments.ledger_entries e ON e.payment_id = p.id GROUP BY p.id
			HAVING (p.status = 'captured' AND (count(e.id) <> 1 OR sum(e.amount_cents) <> -p.amount_cents))
				OR (p.status = 'refunded' AND (count(e.id) <> 2 OR sum(e.amount_cents) <> 0))`},
		{"every payment belongs to an order", `
			SELECT format('payment %s of missing order %s', p.id, p.order_id) FROM payments.payments p
			WHERE NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = p.order_id)`},
		{"no order stays pending", `
			SELECT format('order %s pending since %s', id, created_at) FROM orders.orders WHERE status = 'pending'`},
		{"a confirmed order has exactly one net charge, equal to its total", orderCharges + `
			SELECT format('order %s confirmed: %s net charges of %s cents, total %s, payment_id %s', id, captured, captured_cents, total_cents, payment_id)
			FROM per WHERE status = 'confirmed' AND (captured <> 1 OR captured_cents <> total_cents OR NOT pays)`},
		{"a cancelled order has no net charge", orderCharges + `
			SELECT format('order %s cancelled: %s net charges of %s cents', id, captured, captured_cents)
			FROM per WHERE status = 'cancelled' AND captured <> 0`},
		{"every user has a wallet", `
			SELECT format('user %s has no wallet', u.id) FROM users.users u
			WHERE NOT EXISTS (SELECT 1 FROM payments.wallets w WHERE w.user_id = u.id)`},
		{"users' order statistics agree with the confirmed orders", `
			WITH want AS (SELECT customer_id AS user_id, count(*) AS n, sum(total_cents) AS s FROM orders.orders WHERE status = 'confirmed' GROUP BY customer_id)
			SELECT format('user %s: stats %s orders / %s cents, orders say %s / %s', u.id, coalesce(st.orders_confirmed, 0), coalesce(st.total_spent_cents, 0), coalesce(w.n, 0), coalesce(w.s, 0))
			FROM users.users u LEFT JOIN want w ON w.user_id = u.id LEFT JOIN users.order_stats st ON st.user_id = u.id
			WHERE coalesce(w.n, 0) <> coalesce(st.orders_confirmed, 0) OR coalesce(w.s, 0) <> coalesce(st.total_spent_cents, 0)`},
		{"stock is never negative", `
			SELECT format('sku %s: available %s, reserved %s, sold %s', sku, available, reserved, sold) FROM inventory.stock
			WHERE available < 0 OR reserved < 0 OR sold < 0`},
		{"per SKU, available + reserved + sold = stocked", `
			SELECT format('sku %s: %s + %s + %s <> stocked %s', sku, available, reserved, sold, stocked) FROM inventory.stock
			WHERE available + reserved + sold <> stocked`},
		{"per SKU, reserved and sold are what its reservations hold", `
			SELECT format('sku %s: reserved %s, sold %s; reservations hold %s, %s', s.sku, s.reserved, s.sold, coalesce(h.held, 0), coalesce(h.sold, 0))
			FROM inventory.stock s LEFT JOIN (SELECT l.sku,
					sum(l.quantity) FILTER (WHERE r.status = 'reserved') AS held,
					sum(l.quantity) FILTER (WHERE r.status = 'committed') AS sold
				FROM inventory.reservation_lines l JOIN inventory.reservations r USING (order_id) GROUP BY l.sku) h USING (sku)
			WHERE s.reserved <> coalesce(h.held, 0) OR s.sold <> coalesce(h.sold, 0)`},
		{"a confirmed order holds exactly its items' stock, sold", `
			WITH want AS (SELECT order_id::text AS order_id, sku, sum(quantity)::bigint AS q FROM orders.order_items GROUP BY 1, 2),
			held AS (SELECT l.order_id, l.sku, l.quantity AS q FROM inventory.reservation_lines l
				JOIN inventory.reservations r USING (order_id) WHERE r.status = 'committed')
			SELECT format('order %s confirmed: holds %s of %s, wants %s', o.id, coalesce(h.q, 0), coalesce(w.sku, h.sku), coalesce(w.q, 0))
			FROM (want w FULL JOIN held h ON h.order_id = w.order_id AND h.sku = w.sku)
				JOIN orders.orders o ON o.id::text = coalesce(w.order_id, h.order_id)
			WHERE o.status = 'confirmed' AND coalesce(h.q, 0) <> coalesce(w.q, 0)`},
		{"a cancelled order holds no stock", `
			SELECT format('order %s cancelled: its reservation is %s, holding %s', o.id, r.status, sum(l.quantity))
			FROM orders.orders o JOIN inventory.reservations r ON r.order_id = o.id::text JOIN inventory.reservation_lines l USING (order_id)
			WHERE o.status = 'cancelled' AND r.status <> 'released' GROUP BY o.id, r.status`},
		{"one event per change: user.registered per user", eventsPer("users.users", "id", "users", "user.registered", "1")},
		{"one event per change: order.placed per order", eventsPer("orders.orders", "id", "orders", "order.placed", "1")},
		{"one event per change: order.confirmed per order once confirmed", eventsPer("orders.orders", "id", "orders", "order.confirmed",
			"CASE WHEN t.status = 'confirmed' OR t.failure_reason = 'cancelled_by_customer' THEN 1 ELSE 0 END")},
		{"one event per change: order.cancelled per cancelled order", eventsPer("orders.orders", "id", "orders", "order.cancelled",
			"CASE WHEN t.status = 'cancelled' THEN 1 ELSE 0 END")},
		{"one event per change: payment.captured per payment", eventsPer("payments.payments", "id", "payments", "payment.captured", "1")},
		{"one event per change: payment.refunded per refunded payment", eventsPer("payments.payments", "id", "payments", "payment.refunded",
			"CASE WHEN t.status = 'refunded' THEN 1 ELSE 0 END")},
	}
	return checks
}

// orderCharges counts each order's payments still captured (its net
// charges: a refunded payment nets to zero).
const orderCharges = `
	WITH per AS (
		SELECT o.id, o.status, o.total_cents, o.payment_id,
			count(p.id) FILTER (WHERE p.status = 'captured') AS captured,
			coalesce(sum(p.amount_cents) FILTER (WHERE p.status = 'captured'), 0) AS captured_cents,
			coalesce(bool_or(p.status = 'captured' AND p.id = o.payment_id), false) AS pays
		FROM orders.orders o LEFT JOIN payments.payments p ON p.order_id = o.id GROUP BY o.id)`

// eventsPer checks that each row of table has want events of type in
// schema's outbox, with the row's key as aggregate.
func eventsPer(table, key, schema, typ, want string) string {
	return fmt.Sprintf(`
		SELECT format('%[4]s of %%s: %%s events, want %%s', t.%[2]s, coalesce(e.n, 0), %[5]s)
		FROM %[1]s t LEFT JOIN (SELECT aggregate_id, count(*) AS n FROM %[3]s.event_outbox WHERE type = '%[4]s' GROUP BY aggregate_id) e
			ON e.aggregate_id = t.%[2]s::text
		WHERE coalesce(e.n, 0) <> %[5]s`, table, key, schema, typ, want)
}

// audited are the modules whose event tables the audit reads: those that
// keep data, in the shared database. A module isolated by default keeps
// its tables in a database of its own, which this audit does not read.
func audited(specs []platformtopology.Spec) []platformtopology.Spec {
	var out []platformtopology.Spec
	for _, s := range specs {
		if !s.Stateless && s.Settings.Isolation != config.Isolated {
			out = append(out, s)
		}
	}
	return out
}

// undeliveredQuery counts the audited modules' events not fanned out yet
// and their deliveries still pending.
func undeliveredQuery(specs []platformtopology.Spec) string {
	var parts []string
	for _, s := range audited(specs) {
		parts = append(parts, fmt.Sprintf(`(SELECT count(*) FROM %[1]s.event_deliveries WHERE status = 'pending') +
			(SELECT count(*) FROM %[1]s.event_outbox WHERE fanned_out_at IS NULL)`, s.Name))
	}
	return "SELECT " + strings.Join(parts, " + ")
}

// eventChecks are the delivery invariants for the modules' declared
// subscriptions: every event fanned out, one delivery per subscriber, each
// delivered (no dead letter, nothing pending) and recorded exactly once in
// the subscriber's inbox, and no inbox entry that no delivery explains.
func eventChecks(specs []platformtopology.Spec) []auditCheck {
	stateful := audited(specs)
	var fanned, settled, missing, inboxed, extra []string
	for _, pub := range stateful {
		p := pub.Name
		fanned = append(fanned, fmt.Sprintf(`SELECT format('%s event %%s (%%s) not fanned out', id, type) FROM %s.event_outbox WHERE fanned_out_at IS NULL`, p, p))
		settled = append(settled, fmt.Sprintf(`SELECT format('%s event %%s to %%s: %%s after %%s attempts (%%s)', event_seq, subscriber, status, attempts, last_error)
			FROM %s.event_deliveries WHERE status <> 'delivered'`, p, p))
		for _, sub := range stateful {
			var types []string
			for _, typ := range pub.Publishes {
				if slices.Contains(sub.Subscribes, typ) {
					types = append(types, "'"+typ+"'")
				}
			}
			if len(types) == 0 {
				continue
			}
			s := sub.Name
			missing = append(missing, fmt.Sprintf(`SELECT format('%s event %%s (%%s) has no delivery to %s', o.id, o.type) FROM %s.event_outbox o
				WHERE o.type IN (%s) AND NOT EXISTS (SELECT 1 FROM %s.event_deliveries d WHERE d.event_seq = o.seq AND d.subscriber = '%s')`,
				p, s, p, strings.Join(types, ", "), p, s))
			inboxed = append(inboxed, fmt.Sprintf(`SELECT format('%s event %%s (%%s) delivered to %s but not in its inbox', o.id, o.type)
				FROM %s.event_deliveries d JOIN %s.event_outbox o ON o.seq = d.event_seq
				WHERE d.subscriber = '%s' AND d.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM %s.event_inbox i WHERE i.event_id = o.id)`,
				p, s, p, p, s, s))
		}
	}
	for _, sub := range stateful {
		s := sub.Name
		var sources []string
		for _, pub := range stateful {
			sources = append(sources, fmt.Sprintf(`SELECT o.id FROM %s.event_deliveries d JOIN %s.event_outbox o ON o.seq = d.event_seq WHERE d.subscriber = '%s'`,
				pub.Name, pub.Name, s))
		}
		extra = append(extra, fmt.Sprintf(`SELECT format('%s inbox holds %%s (%%s) that no delivery explains', i.event_id, i.type) FROM %s.event_inbox i
			WHERE i.event_id NOT IN (%s)`, s, s, strings.Join(sources, " UNION ALL ")))
	}
	union := func(parts []string) string { return strings.Join(parts, "\nUNION ALL\n") }
	return []auditCheck{
		{"every outbox event is fanned out", union(fanned)},
		{"every subscribed event has a delivery per subscriber", union(missing)},
		{"every delivery is done: none pending, no dead letter", union(settled)},
		{"every delivered event is in its subscriber's inbox", union(inboxed)},
		{"no inbox entry without a delivery", union(extra)},
	}
}

// audit runs every check and returns the failures, a few examples each.
func audit(ctx context.Context, conn *pgx.Conn, checks []auditCheck) ([]string, error) {
	var failures []string
	for _, c := range checks {
		rows, err := conn.Query(ctx, c.sql)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		if len(lines) > 0 {
			failures = append(failures, fmt.Sprintf("%s: %d rows, e.g. %s", c.name, len(lines), strings.Join(lines[:min(3, len(lines))], "; ")))
		}
	}
	return failures, nil
}

// chaosTotals are the figures the summary prints.
type chaosTotals struct {
	users, wallets                       int
	byStatus                             map[string]int
	deposits, balances, charges, refunds int64
	events, deliveries, inbox            int
}

func readTotals(ctx context.Context, conn *pgx.Conn) (chaosTotals, error) {
	t := chaosTotals{byStatus: map[string]int{}}
	err := conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users.users), (SELECT count(*) FROM payments.wallets),
		(SELECT coalesce(sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'deposit'),
		(SELECT coalesce(sum(balance_cents), 0) FROM payments.wallets),
		(SELECT coalesce(-sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'charge'),
		(SELECT coalesce(sum(amount_cents), 0) FROM payments.ledger_entries WHERE kind = 'refund'),
		(SELECT count(*) FROM users.event_outbox) + (SELECT count(*) FROM payments.event_outbox) + (SELECT count(*) FROM orders.event_outbox),
		(SELECT count(*) FROM users.event_deliveries) + (SELECT count(*) FROM payments.event_deliveries) + (SELECT count(*) FROM orders.event_deliveries),
		(SELECT count(*) FROM users.event_inbox) + (SELECT count(*) FROM payments.event_inbox) + (SELECT count(*) FROM orders.event_inbox)`).
		Scan(&t.users, &t.wallets, &t.deposits, &t.balances, &t.charges, &t.refunds, &t.events, &t.deliveries, &t.inbox)
	if err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	rows, err := conn.Query(ctx, "SELECT status, count(*)::int FROM orders.orders GROUP BY status")
	if err != nil {
		return t, fmt.Errorf("orders by status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return t, err
		}
		t.byStatus[s] = n
	}
	return t, rows.Err()
}
