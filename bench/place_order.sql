-- One order placement (POST /api/v1/orders, two items, no Idempotency-Key)
-- replayed as the SQL the app sends, for pgbench, with the app's
-- BEGIN/COMMITs. bench/run.sh captures one placement from the app (every
-- statement PostgreSQL runs for it, idle polls left out), prints it, counts
-- it as it counts this script, and stops if the two differ. Regenerated from
-- a capture (BENCH_CAPTURE=file) when the app's SQL changes.
--
-- First the request path: 24 statements, 6 durable commits (42 before
-- issue 12's statement merges). Users' Get (orders prices from its copy of
-- the catalog, read at most once a second), then the saga in the app's
-- transactions: the pending order with its items (one statement), its
-- saga row (at reserve_stock) with the first step (check_customer) (one
-- statement) and order.placed in the outbox; inventory's reservation (of
-- the items the placing request just recorded, not read back) (the
-- reservation, every line's stock moved from available to reserved in one
-- statement under its check, the rows locked in SKU order, the lines); the
-- saga moved on to the charge with reserve_stock's step (one statement,
-- which needs no transaction); payments' Charge
-- under its per-key advisory lock (the idempotent replay lookup and the
-- voided-charge check in one statement, the wallet debit, the payment and
-- the ledger entry in one, payment.captured); inventory's commit of the
-- reservation right after the charge (the reservation marked committed
-- and every line's stock moved from reserved to sold, in one statement
-- with no transaction); and the saga done with the charge's step and
-- the confirmation's in one statement (the order locked and confirmed in
-- one statement, order.confirmed).
--
-- Then, after the "-- Asynchronous" comment, what the placement causes
-- later: the orders relay's delivery batch and users' inbox transaction.
-- Each event is written with its deliveries, in its outbox insert (one,
-- for order.confirmed to users; order.placed and payment.captured have no
-- subscriber), so no relay fans anything out for a placement; the commit
-- wakes the orders relay's delivery loop, which claims the due deliveries
-- (with their events) and marks the delivered, in one transaction with
-- synchronous_commit off; users applies order.confirmed in one durable
-- inbox transaction (inbox row and order_stats). Under load one batch
-- serves several orders. Per order this script replays one batch holding
-- only that order's delivery (the per-event row work, and each batch
-- statement's round trip as if the batch held one order: more than under
-- load), in a transaction with the relay's own settings, whose BEGIN,
-- set_config and COMMIT stand in for the batch's per-round statements.
-- Idle polls (three relays' fan-outs and deliveries, and the saga worker)
-- are left out.
--
-- Run with PGOPTIONS='-c search_path=orders,payments,users,inventory', as
-- the modules pin search_path to their own schema. The event tables exist
-- in every module's schema, so they are schema-qualified here (the app
-- writes them unqualified, in its own schema). Other differences from the
-- app, all small: ids are random rather than UUIDv7 (event ids are derived
-- from the order's), timestamps are now() rather than literals, trace
-- context is empty, each pgbench client is one seeded user (user
-- ...-1000000000NN for client NN), order.confirmed's insert returns its
-- seq (\gset) for the relay's claim, which in the app takes every due
-- delivery (here: the order's own, with a simpler condition), and pgbench uses
-- the simple protocol, one round trip per statement, as the app's driver
-- does. All clients reserve the same two SKUs, as the app's load does: their
-- stock rows are the placements' hot rows in both.
\set uid :client_id + 100000000000
\set oid random(100000000000, 999999999999)
\set pid random(100000000000, 999999999999)
-- users: Get the customer (the saga's check_customer, before anything is stored)
SELECT "user_row"."id", "user_row"."email", "user_row"."email_canonical", "user_row"."name", "user_row"."password_hash", "user_row"."role", "user_row"."created_at" FROM "users" AS "user_row" WHERE (id = '00000000-0000-7000-8000-:uid');
-- orders: the pending order with its items (one statement), its saga (leased, at reserve_stock) with its first step (one statement), order.placed
begin;
WITH o AS ( INSERT INTO orders (id, customer_id, status, total_cents, payment_id, failure_reason, idempotency_key, request_hash, created_at, updated_at) VALUES ('0190a000-0000-7000-8000-:oid', '00000000-0000-7000-8000-:uid', 'pending', 3670, NULL, NULL, NULL, '0fc078979b777bb5b7e93c9b0a6426724f45e3ffcf4c29668f6c182da6d62435', now(), now()) RETURNING id) INSERT INTO order_items (order_id, line, sku, name, quantity, unit_price_cents) SELECT o.id, i.line, i.sku, i.name, i.quantity, i.unit_price_cents FROM o, unnest('{1,2}'::int[], '{"COFFEE-1KG","FILTER-100"}'::text[], '{"Coffee beans, 1 kg","Paper filters, 100"}'::text[], '{1,2}'::int[], '{2490,590}'::bigint[]) AS i (line, sku, name, quantity, unit_price_cents);
WITH s AS ( INSERT INTO sagas (order_id, step, attempts, deadline_at, lease_owner, lease_until, next_attempt_at, trace_parent) VALUES ('0190a000-0000-7000-8000-:oid', 'reserve_stock', 0, now() + 60000 * interval '1 millisecond', nullif('pgbench/0000', ''), now() + 10000 * interval '1 millisecond', now() + 0 * interval '1 millisecond', '') RETURNING order_id) INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT s.order_id, r.n, r.step, r.outcome, r.detail FROM s, unnest('{"check_customer"}'::text[], '{"succeeded"}'::text[], '{""}'::text[]) WITH ORDINALITY AS r (step, outcome, detail, n);
WITH o AS ( INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state, fanned_out_at) VALUES ('0190a000-0000-4000-a000-:oid', 'order.placed', '0190a000-0000-7000-8000-:oid', 'orders', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:uid","total_cents":3670}', now(), '', '', now()) RETURNING seq) INSERT INTO orders.event_deliveries (event_seq, subscriber, aggregate_id) SELECT o.seq, s.subscriber, '0190a000-0000-7000-8000-:oid' FROM o, unnest('{}'::text[]) AS s (subscriber);
commit;
-- inventory: Reserve, the reservation and every line's stock moved from available to reserved in one statement (the rows locked in SKU order), the lines
begin;
INSERT INTO "reservations" AS "reservation_row" ("order_id", "status", "created_at", "updated_at") VALUES ('0190a000-0000-7000-8000-:oid', 'reserved', DEFAULT, DEFAULT) ON CONFLICT (order_id) DO NOTHING RETURNING "created_at", "updated_at";
UPDATE stock SET available = stock.available - w.quantity, reserved = stock.reserved + w.quantity FROM (SELECT s.sku, s.available, w.quantity FROM stock s JOIN unnest('{"COFFEE-1KG","FILTER-100"}'::text[], '{1,2}'::bigint[]) AS w (sku, quantity) ON w.sku = s.sku ORDER BY s.sku FOR NO KEY UPDATE OF s) w WHERE stock.sku = w.sku AND w.available >= w.quantity RETURNING stock.sku;
INSERT INTO "reservation_lines" ("order_id", "sku", "quantity") VALUES ('0190a000-0000-7000-8000-:oid', 'COFFEE-1KG', 1), ('0190a000-0000-7000-8000-:oid', 'FILTER-100', 2);
commit;
-- orders: the saga moved on to the charge, with reserve_stock's step, in one statement (no transaction)
WITH moved AS ( UPDATE sagas SET step = 'charge', attempts = 0, next_attempt_at = now() + 0 * interval '1 millisecond', lease_until = now() + 10000 * interval '1 millisecond', payment_id = coalesce(NULL, payment_id), failure_reason = coalesce(NULL, failure_reason), updated_at = now() WHERE order_id = '0190a000-0000-7000-8000-:oid' AND lease_owner = 'pgbench/0000' AND step = 'reserve_stock' RETURNING order_id), appended AS ( INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT m.order_id, last.seq + r.n, r.step, r.outcome, r.detail FROM moved m, (SELECT coalesce(max(seq), 0) AS seq FROM saga_steps WHERE order_id = '0190a000-0000-7000-8000-:oid') AS last, unnest('{"reserve_stock"}'::text[], '{"succeeded"}'::text[], '{""}'::text[]) WITH ORDINALITY AS r (step, outcome, detail, n)) SELECT count(*) FROM moved;
-- payments: Charge, under the charge key's lock: the replay lookup and the voided-charge check in one statement, the wallet debit, the payment and the ledger entry in one, payment.captured
begin;
SELECT pg_advisory_xact_lock(hashtextextended('order:0190a000-0000-7000-8000-:oid:charge', 0));
SELECT p.id, p.user_id, p.order_id, p.amount_cents, p.status, p.created_at, p.refunded_at, EXISTS (SELECT 1 FROM voided_charges WHERE charge_key = 'order:0190a000-0000-7000-8000-:oid:charge') AS voided FROM (VALUES (1)) AS one (x) LEFT JOIN payments p ON p.idempotency_key = 'order:0190a000-0000-7000-8000-:oid:charge';
WITH debit AS ( UPDATE wallets SET balance_cents = balance_cents - 3670, updated_at = now() WHERE user_id = '00000000-0000-7000-8000-:uid' AND balance_cents - 3670 >= 0 RETURNING user_id), paid AS ( INSERT INTO payments (id, user_id, order_id, amount_cents, status, idempotency_key, created_at) SELECT '0190a000-0000-7000-9000-:pid', user_id, '0190a000-0000-7000-8000-:oid', 3670, 'captured', 'order:0190a000-0000-7000-8000-:oid:charge', now() FROM debit RETURNING id, user_id) INSERT INTO ledger_entries (user_id, kind, amount_cents, payment_id) SELECT user_id, 'charge', -3670, id FROM paid;
WITH o AS ( INSERT INTO payments.event_outbox (id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state, fanned_out_at) VALUES ('0190a000-0000-4000-b000-:oid', 'payment.captured', '0190a000-0000-7000-9000-:pid', 'payments', '{"payment_id":"0190a000-0000-7000-9000-:pid","user_id":"00000000-0000-7000-8000-:uid","order_id":"0190a000-0000-7000-8000-:oid","amount_cents":3670}', now(), '', '', now()) RETURNING seq) INSERT INTO payments.event_deliveries (event_seq, subscriber, aggregate_id) SELECT o.seq, s.subscriber, '0190a000-0000-7000-9000-:pid' FROM o, unnest('{}'::text[]) AS s (subscriber);
commit;
-- inventory: Commit, the reservation marked committed and every line's stock moved from reserved to sold in one statement (the rows locked in SKU order), no transaction
WITH marked AS ( UPDATE reservations SET status = 'committed', updated_at = now() FROM (SELECT order_id, status FROM reservations WHERE order_id = '0190a000-0000-7000-8000-:oid' FOR UPDATE) old WHERE reservations.order_id = old.order_id AND old.status = 'reserved' RETURNING reservations.order_id), moved AS ( UPDATE stock SET reserved = stock.reserved - l.quantity, sold = stock.sold + l.quantity FROM (SELECT l.sku, l.quantity FROM marked m JOIN reservation_lines l ON l.order_id = m.order_id JOIN stock s ON s.sku = l.sku ORDER BY l.sku FOR NO KEY UPDATE OF s) l WHERE stock.sku = l.sku RETURNING l.sku, l.quantity) SELECT EXISTS (SELECT 1 FROM marked) AS marked, moved.sku, moved.quantity FROM (VALUES (1)) AS one (x) LEFT JOIN moved ON true ORDER BY moved.sku;
-- orders: the saga done with the charge's and the confirmation's steps in one statement, the order locked and confirmed in one statement, order.confirmed
begin;
WITH moved AS ( UPDATE sagas SET step = 'done', attempts = 0, next_attempt_at = now() + 0 * interval '1 millisecond', lease_until = now() + 0 * interval '1 millisecond', payment_id = coalesce('0190a000-0000-7000-9000-:pid', payment_id), failure_reason = coalesce(NULL, failure_reason), updated_at = now() WHERE order_id = '0190a000-0000-7000-8000-:oid' AND lease_owner = 'pgbench/0000' AND step = 'charge' RETURNING order_id), appended AS ( INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT m.order_id, last.seq + r.n, r.step, r.outcome, r.detail FROM moved m, (SELECT coalesce(max(seq), 0) AS seq FROM saga_steps WHERE order_id = '0190a000-0000-7000-8000-:oid') AS last, unnest('{"charge","confirm"}'::text[], '{"succeeded","succeeded"}'::text[], '{"payment 0190a000-0000-7000-9000-:pid",""}'::text[]) WITH ORDINALITY AS r (step, outcome, detail, n)) SELECT count(*) FROM moved;
WITH cur AS (SELECT id, status, customer_id, total_cents FROM orders WHERE id = '0190a000-0000-7000-8000-:oid' FOR UPDATE), moved AS ( UPDATE orders SET status = 'confirmed', updated_at = now(), payment_id = coalesce('0190a000-0000-7000-9000-:pid', orders.payment_id), failure_reason = coalesce(NULL, orders.failure_reason) FROM cur WHERE orders.id = cur.id AND cur.status NOT IN ('confirmed', 'cancelled') RETURNING orders.id) SELECT cur.status, cur.customer_id, cur.total_cents, EXISTS (SELECT 1 FROM moved) AS moved FROM cur;
WITH o AS ( INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at, trace_parent, trace_state, fanned_out_at) VALUES ('0190a000-0000-4000-c000-:oid', 'order.confirmed', '0190a000-0000-7000-8000-:oid', 'orders', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:uid","total_cents":3670,"payment_id":"0190a000-0000-7000-9000-:pid"}', now(), '', '', now()) RETURNING seq) INSERT INTO orders.event_deliveries (event_seq, subscriber, aggregate_id) SELECT o.seq, s.subscriber, '0190a000-0000-7000-8000-:oid' FROM o, unnest('{"users"}'::text[]) AS s (subscriber) RETURNING event_seq \gset confirmed_
commit;
-- Asynchronous: the orders relay's delivery batch holding this order's event, and users' inbox (see above).
-- users: order.confirmed applied, inbox row and order_stats in one durable transaction
begin;
INSERT INTO users.event_inbox (event_id, type, source) VALUES ('0190a000-0000-4000-c000-:oid', 'order.confirmed', 'orders') ON CONFLICT (event_id) DO NOTHING;
INSERT INTO users.order_stats (user_id, orders_confirmed, total_spent_cents) VALUES ('00000000-0000-7000-8000-:uid', 1, 3670) ON CONFLICT (user_id) DO UPDATE SET orders_confirmed = order_stats.orders_confirmed + EXCLUDED.orders_confirmed, total_spent_cents = order_stats.total_spent_cents + EXCLUDED.total_spent_cents, updated_at = now();
commit;
-- orders relay, delivery: the delivery claimed with its event, marked delivered
begin;
SELECT set_config('synchronous_commit', 'off', true), set_config('enable_bitmapscan', 'off', true);
WITH claimed AS ( SELECT d.event_seq, d.subscriber, d.attempts, d.aggregate_id FROM orders.event_deliveries d WHERE d.event_seq = :confirmed_event_seq AND d.subscriber = 'users' AND d.status = 'pending' AND d.next_attempt_at <= now() FOR UPDATE SKIP LOCKED) SELECT c.event_seq AS seq, c.subscriber, c.attempts, EXISTS (SELECT 1 FROM orders.event_deliveries e WHERE e.subscriber = c.subscriber AND e.aggregate_id = c.aggregate_id AND e.status = 'pending' AND e.event_seq > c.event_seq) AS more, o.id, o.type, o.aggregate_id, o.source, o.payload, o.occurred_at, o.trace_parent, o.trace_state FROM claimed c JOIN orders.event_outbox o ON o.seq = c.event_seq ORDER BY c.event_seq;
UPDATE orders.event_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = NULL WHERE subscriber = 'users' AND event_seq = ANY('{:confirmed_event_seq}'::bigint[]);
commit;
