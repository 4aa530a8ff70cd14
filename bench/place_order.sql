-- One order placement (POST /api/v1/orders, two items, no Idempotency-Key)
-- replayed as the SQL the app sends, for pgbench, with the app's
-- BEGIN/COMMITs. bench/run.sh captures one placement from the app (every
-- statement PostgreSQL runs for it, idle polls left out), prints it, counts
-- it as it counts this script, and stops if the two differ.
--
-- First the request path: 25 statements, 3 durable commits. Users' Get
-- (orders prices from its copy of the catalog, read at most once a second),
-- then the saga in the app's transactions: the pending order with its
-- items, its saga row, the first step (check_customer) and order.placed in
-- the outbox; payments' Charge under its per-key advisory lock (the
-- idempotent replay lookup, the voided-charge check, the wallet debit, the
-- payment, the ledger entry, payment.captured); the charge recorded with
-- the confirmation that follows it, in one transaction (saga done, both
-- steps, the order locked, confirmed, order.confirmed). The request answers
-- the order it recorded, without reading it back.
--
-- Then, after the "-- Asynchronous" comment, what the placement causes
-- later, per event: the relays fan out the three events (one delivery row:
-- order.confirmed to users; order.placed and payment.captured have no
-- subscriber), users' inbox transaction (inbox row and order_stats, one
-- durable commit per event in the app too: Bus.Deliver) and the delivery
-- marked delivered: 9 statements, 1 durable commit.
--
-- Amortised: the relays work in batches. Every EVENTS_POLL_INTERVAL (200 ms)
-- a module's relay fans out all new outbox rows in one transaction (BEGIN,
-- fan-out advisory lock, outbox read, the per-event writes, COMMIT) and
-- claims and marks the due deliveries in another (BEGIN, claim query, the
-- per-event UPDATEs, COMMIT). Under load, hundreds of orders a second, one
-- poll serves tens of orders, so per order this script replays only the
-- per-event writes, each relay's share in its own transaction with
-- synchronous_commit off: the WAL is written, and flushed by the WAL writer
-- within 200 ms (wal_writer_delay), as the batch's one commit would do,
-- without a flush wait per order. Those BEGIN/SET LOCAL/COMMITs (the SET
-- LOCAL is the only statement the app does not send) stand in for the
-- per-poll statements, which for one placement alone are 11 statements and
-- 3 durable commits; idle polls (three relays and the saga worker, about
-- 100 statements a second in all) are left out: below one statement per
-- order at the measured rates.
--
-- Run with PGOPTIONS='-c search_path=orders,payments,users', as the modules
-- pin search_path to their own schema. The event tables exist in every
-- module's schema, so they are schema-qualified here (the app writes them
-- unqualified, in its own schema). Other differences from the app, all
-- small: ids are random rather than UUIDv7 (event ids are derived from the
-- order's), timestamps are now() rather than literals, each pgbench client
-- is one seeded user (user ...-1000000000NN for client NN), the outbox
-- inserts return their seq (\gset) for the fan-out statements, which in the
-- app read it from the batch's outbox query, and pgbench uses the simple
-- protocol, one round trip per statement, as the app's driver does.
\set uid :client_id + 100000000000
\set oid random(100000000000, 999999999999)
\set pid random(100000000000, 999999999999)
-- users: Get the customer (the saga's check_customer, before anything is stored)
SELECT "user_row"."id", "user_row"."email", "user_row"."name", "user_row"."password_hash", "user_row"."role", "user_row"."created_at" FROM "users" AS "user_row" WHERE (id = '00000000-0000-7000-8000-:uid');
-- orders: the pending order with its items, its saga (leased, at charge) and first step, order.placed
begin;
INSERT INTO "orders" ("id", "customer_id", "status", "total_cents", "payment_id", "failure_reason", "idempotency_key", "request_hash", "created_at", "updated_at") VALUES ('0190a000-0000-7000-8000-:oid', '00000000-0000-7000-8000-:uid', 'pending', 3670, DEFAULT, DEFAULT, DEFAULT, '0fc078979b777bb5b7e93c9b0a6426724f45e3ffcf4c29668f6c182da6d62435', now(), now()) RETURNING "payment_id", "failure_reason", "idempotency_key";
INSERT INTO "order_items" ("order_id", "line", "sku", "name", "quantity", "unit_price_cents") VALUES ('0190a000-0000-7000-8000-:oid', 1, 'COFFEE-1KG', 'Coffee beans, 1 kg', 1, 2490), ('0190a000-0000-7000-8000-:oid', 2, 'FILTER-100', 'Paper filters, 100', 2, 590);
INSERT INTO sagas (order_id, step, attempts, deadline_at, lease_owner, lease_until, next_attempt_at) VALUES ('0190a000-0000-7000-8000-:oid', 'charge', 0, now() + 60000 * interval '1 millisecond', nullif('pgbench/0000', ''), now() + 10000 * interval '1 millisecond', now() + 0 * interval '1 millisecond');
INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT '0190a000-0000-7000-8000-:oid', coalesce(max(seq), 0) + 1, 'check_customer', 'succeeded', '' FROM saga_steps WHERE order_id = '0190a000-0000-7000-8000-:oid';
INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at) VALUES ('0190a000-0000-4000-a000-:oid', 'order.placed', '0190a000-0000-7000-8000-:oid', 'orders', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:uid","total_cents":3670}', now()) RETURNING seq \gset placed_
commit;
-- payments: Charge, under the charge key's lock, with payment.captured
begin;
SELECT pg_advisory_xact_lock(hashtextextended('order:0190a000-0000-7000-8000-:oid:charge', 0));
SELECT "payment_row"."id", "payment_row"."user_id", "payment_row"."order_id", "payment_row"."amount_cents", "payment_row"."status", "payment_row"."idempotency_key", "payment_row"."created_at", "payment_row"."refunded_at" FROM "payments" AS "payment_row" WHERE (idempotency_key = 'order:0190a000-0000-7000-8000-:oid:charge');
SELECT voided_at FROM voided_charges WHERE charge_key = 'order:0190a000-0000-7000-8000-:oid:charge';
UPDATE wallets SET balance_cents = balance_cents + -3670, updated_at = now() WHERE user_id = '00000000-0000-7000-8000-:uid' AND balance_cents + -3670 >= 0 RETURNING balance_cents;
INSERT INTO "payments" ("id", "user_id", "order_id", "amount_cents", "status", "idempotency_key", "created_at", "refunded_at") VALUES ('0190a000-0000-7000-9000-:pid', '00000000-0000-7000-8000-:uid', '0190a000-0000-7000-8000-:oid', 3670, 'captured', 'order:0190a000-0000-7000-8000-:oid:charge', now(), DEFAULT) RETURNING "refunded_at";
INSERT INTO "ledger_entries" ("id", "user_id", "kind", "amount_cents", "payment_id", "idempotency_key") VALUES (DEFAULT, '00000000-0000-7000-8000-:uid', 'charge', -3670, '0190a000-0000-7000-9000-:pid', DEFAULT) RETURNING "id", "idempotency_key";
INSERT INTO payments.event_outbox (id, type, aggregate_id, source, payload, occurred_at) VALUES ('0190a000-0000-4000-b000-:oid', 'payment.captured', '0190a000-0000-7000-9000-:pid', 'payments', '{"payment_id":"0190a000-0000-7000-9000-:pid","user_id":"00000000-0000-7000-8000-:uid","order_id":"0190a000-0000-7000-8000-:oid","amount_cents":3670}', now()) RETURNING seq \gset captured_
commit;
-- orders: the charge step recorded with the confirmation it leads to: saga done with both steps, the order locked and confirmed, order.confirmed
begin;
UPDATE sagas SET step = 'done', attempts = 0, next_attempt_at = now() + 0 * interval '1 millisecond', lease_until = CASE WHEN 0 > 0 THEN now() + 0 * interval '1 millisecond' ELSE now() END, payment_id = coalesce('0190a000-0000-7000-9000-:pid', payment_id), failure_reason = coalesce(NULL, failure_reason), updated_at = now() WHERE order_id = '0190a000-0000-7000-8000-:oid' AND lease_owner = 'pgbench/0000' AND step = 'charge';
INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT '0190a000-0000-7000-8000-:oid', coalesce(max(seq), 0) + 1, 'charge', 'succeeded', 'payment 0190a000-0000-7000-9000-:pid' FROM saga_steps WHERE order_id = '0190a000-0000-7000-8000-:oid';
INSERT INTO saga_steps (order_id, seq, step, outcome, detail) SELECT '0190a000-0000-7000-8000-:oid', coalesce(max(seq), 0) + 1, 'confirm', 'succeeded', '' FROM saga_steps WHERE order_id = '0190a000-0000-7000-8000-:oid';
SELECT "o"."status", "o"."customer_id", "o"."total_cents" FROM "orders" AS "o" WHERE (id = '0190a000-0000-7000-8000-:oid') FOR UPDATE;
UPDATE "orders" AS "o" SET status = 'confirmed', updated_at = now(), payment_id = '0190a000-0000-7000-9000-:pid' WHERE (id = '0190a000-0000-7000-8000-:oid');
INSERT INTO orders.event_outbox (id, type, aggregate_id, source, payload, occurred_at) VALUES ('0190a000-0000-4000-c000-:oid', 'order.confirmed', '0190a000-0000-7000-8000-:oid', 'orders', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:uid","total_cents":3670,"payment_id":"0190a000-0000-7000-9000-:pid"}', now()) RETURNING seq \gset confirmed_
commit;
-- Asynchronous, per event; each relay's share of its batch in its own transaction (see above).
-- orders relay, fan-out: order.placed (no subscriber), order.confirmed (to users)
begin;
SET LOCAL synchronous_commit = off;
UPDATE orders.event_outbox SET fanned_out_at = now() WHERE seq = :placed_seq;
INSERT INTO orders.event_deliveries (event_seq, subscriber, aggregate_id) VALUES (:confirmed_seq, 'users', '0190a000-0000-7000-8000-:oid') ON CONFLICT DO NOTHING;
UPDATE orders.event_outbox SET fanned_out_at = now() WHERE seq = :confirmed_seq;
commit;
-- users: Bus.Deliver of order.confirmed, per event: inbox and order_stats in one durable transaction
begin;
INSERT INTO users.event_inbox (event_id, type, source) VALUES ('0190a000-0000-4000-c000-:oid', 'order.confirmed', 'orders') ON CONFLICT (event_id) DO NOTHING;
INSERT INTO users.order_stats (user_id, orders_confirmed, total_spent_cents) VALUES ('00000000-0000-7000-8000-:uid', 1, 3670) ON CONFLICT (user_id) DO UPDATE SET orders_confirmed = order_stats.orders_confirmed + EXCLUDED.orders_confirmed, total_spent_cents = order_stats.total_spent_cents + EXCLUDED.total_spent_cents, updated_at = now();
commit;
-- orders relay, delivery: the claimed row marked delivered
begin;
SET LOCAL synchronous_commit = off;
UPDATE orders.event_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = NULL WHERE event_seq = :confirmed_seq AND subscriber = 'users';
commit;
-- payments relay, fan-out: payment.captured (no subscriber)
begin;
SET LOCAL synchronous_commit = off;
UPDATE payments.event_outbox SET fanned_out_at = now() WHERE seq = :captured_seq;
commit;
