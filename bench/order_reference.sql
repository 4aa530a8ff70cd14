-- The order reference: the least SQL a durable three-step order saga with
-- transactional events needs, for pgbench (one pgbench transaction is one
-- order). It is ours to keep and does not follow the app: bench/run.sh
-- divides the app's orders per second by this script's, on the same
-- cluster, with the same clients and duration, in the same run.
--
-- 4 durable commits, 15 statements (BEGIN/COMMIT not counted):
--   tx 1, orders:   read the customer and the products, insert the pending
--                   order, its items (one statement), its saga state and
--                   order.placed in the outbox;
--   tx 2, payments: debit the wallet only if the balance covers the total,
--                   insert the payment (unique per order: a repeated charge
--                   step cannot charge twice) and payment.captured;
--   tx 3, orders:   confirm the order (only if still pending), finish the
--                   saga, insert order.confirmed;
--   tx 4, the subscriber: its inbox row, its read model (order_stats), and
--                   order.confirmed marked delivered, the relay's one
--                   write per event, in the same transaction since the
--                   reference is one database. Without that mark an outbox
--                   delivers forever; order.placed and payment.captured
--                   have no subscriber, so a relay never claims them.
-- Each step commits before the next begins, so a worker can resume the saga
-- after a crash at any point; every write is guarded where the app guards
-- it (conditional updates, unique keys, CHECKs in the schema).
--
-- Left out, as bench/place_order.sql leaves it out of the app's replay:
-- the relay's read of pending events, one query per batch (tens of orders
-- under load).
--
-- Schema and seed: bench/order_reference_schema.sql (schema ref; run with
-- PGOPTIONS='-c search_path=ref'). Ids are random in a 12-digit range, as in
-- the replay; customer N is pgbench client N - 1, with a large wallet.
\set cid :client_id + 100000000001
\set oid random(100000000000, 999999999999)
-- tx 1: the order, its items, its saga, order.placed
BEGIN;
SELECT id, name FROM customers WHERE id = '00000000-0000-7000-8000-:cid';
SELECT sku, name, price_cents FROM products WHERE sku IN ('COFFEE-1KG', 'FILTER-100');
INSERT INTO orders (id, customer_id, status, total_cents) VALUES ('0190a000-0000-7000-8000-:oid', '00000000-0000-7000-8000-:cid', 'pending', 3670);
INSERT INTO order_items (order_id, line, sku, quantity, unit_price_cents) VALUES ('0190a000-0000-7000-8000-:oid', 1, 'COFFEE-1KG', 1, 2490), ('0190a000-0000-7000-8000-:oid', 2, 'FILTER-100', 2, 590);
INSERT INTO sagas (order_id, step) VALUES ('0190a000-0000-7000-8000-:oid', 'charge');
INSERT INTO outbox (id, type, aggregate_id, payload) VALUES ('0190a000-0000-4000-a000-:oid', 'order.placed', '0190a000-0000-7000-8000-:oid', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:cid","total_cents":3670}');
COMMIT;
-- tx 2: the charge, payment.captured
BEGIN;
UPDATE wallets SET balance_cents = balance_cents - 3670 WHERE customer_id = '00000000-0000-7000-8000-:cid' AND balance_cents >= 3670;
INSERT INTO payments (id, order_id, customer_id, amount_cents) VALUES ('0190a000-0000-7000-9000-:oid', '0190a000-0000-7000-8000-:oid', '00000000-0000-7000-8000-:cid', 3670);
INSERT INTO outbox (id, type, aggregate_id, payload) VALUES ('0190a000-0000-4000-b000-:oid', 'payment.captured', '0190a000-0000-7000-9000-:oid', '{"payment_id":"0190a000-0000-7000-9000-:oid","user_id":"00000000-0000-7000-8000-:cid","order_id":"0190a000-0000-7000-8000-:oid","amount_cents":3670}');
COMMIT;
-- tx 3: the confirmation, the saga done, order.confirmed
BEGIN;
UPDATE orders SET status = 'confirmed', payment_id = '0190a000-0000-7000-9000-:oid', updated_at = now() WHERE id = '0190a000-0000-7000-8000-:oid' AND status = 'pending';
UPDATE sagas SET step = 'done', updated_at = now() WHERE order_id = '0190a000-0000-7000-8000-:oid' AND step = 'charge';
INSERT INTO outbox (id, type, aggregate_id, payload) VALUES ('0190a000-0000-4000-c000-:oid', 'order.confirmed', '0190a000-0000-7000-8000-:oid', '{"order_id":"0190a000-0000-7000-8000-:oid","customer_id":"00000000-0000-7000-8000-:cid","total_cents":3670,"payment_id":"0190a000-0000-7000-9000-:oid"}') RETURNING seq \gset confirmed_
COMMIT;
-- tx 4: the subscriber's inbox and read model, the event marked delivered
BEGIN;
INSERT INTO inbox (event_id) VALUES ('0190a000-0000-4000-c000-:oid') ON CONFLICT (event_id) DO NOTHING;
INSERT INTO order_stats (customer_id, orders_confirmed, total_spent_cents) VALUES ('00000000-0000-7000-8000-:cid', 1, 3670) ON CONFLICT (customer_id) DO UPDATE SET orders_confirmed = order_stats.orders_confirmed + 1, total_spent_cents = order_stats.total_spent_cents + EXCLUDED.total_spent_cents, updated_at = now();
UPDATE outbox SET delivered_at = now() WHERE seq = :confirmed_seq;
COMMIT;
