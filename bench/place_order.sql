-- One order placement (POST /api/v1/orders, two items, no Idempotency-Key)
-- replayed as the SQL the app sends, for pgbench: 16 statements in the
-- order the app sends them, with the app's BEGIN/COMMITs, so three durable
-- commits (the order insert, the charge, the status update). Captured with
-- log_statement=all from one placement; bench/run.sh prints that capture.
-- Run with PGOPTIONS='-c search_path=orders,payments,users', as the modules
-- pin search_path to their own schema.
--
-- Differences from the app, all small: ids are random rather than UUIDv7,
-- timestamps come from now() rather than literals, each pgbench client is
-- one seeded user (user ...-1000000000NN for client NN), and pgbench uses
-- the simple protocol, one round trip per statement (see BENCHMARKS.md for
-- what the app's driver does instead).
\set uid :client_id + 100000000000
\set oid random(100000000000, 999999999999)
\set pid random(100000000000, 999999999999)
-- orders: price the items (outside a transaction)
SELECT "product_row"."sku", "product_row"."name", "product_row"."price_cents" FROM "products" AS "product_row" WHERE (sku IN ('COFFEE-1KG', 'FILTER-100')) ORDER BY "sku";
-- users: Get the customer
SELECT "user_row"."id", "user_row"."email", "user_row"."name", "user_row"."password_hash", "user_row"."created_at" FROM "users" AS "user_row" WHERE (id = '00000000-0000-7000-8000-:uid');
-- orders: insert the pending order with its items
begin;
INSERT INTO "orders" ("id", "customer_id", "status", "total_cents", "payment_id", "failure_reason", "idempotency_key", "request_hash", "created_at", "updated_at") VALUES ('0190a000-0000-7000-8000-:oid', '00000000-0000-7000-8000-:uid', 'pending', 3670, DEFAULT, DEFAULT, DEFAULT, '0fc078979b777bb5b7e93c9b0a6426724f45e3ffcf4c29668f6c182da6d62435', now(), now()) RETURNING "payment_id", "failure_reason", "idempotency_key";
INSERT INTO "order_items" ("order_id", "line", "sku", "name", "quantity", "unit_price_cents") VALUES ('0190a000-0000-7000-8000-:oid', 1, 'COFFEE-1KG', 'Coffee beans, 1 kg', 1, 2490), ('0190a000-0000-7000-8000-:oid', 2, 'FILTER-100', 'Paper filters, 100', 2, 590);
commit;
-- payments: Charge
begin;
SELECT "payment_row"."id", "payment_row"."user_id", "payment_row"."order_id", "payment_row"."amount_cents", "payment_row"."status", "payment_row"."idempotency_key", "payment_row"."created_at", "payment_row"."refunded_at" FROM "payments" AS "payment_row" WHERE (idempotency_key = 'order:0190a000-0000-7000-8000-:oid:charge');
INSERT INTO wallets (user_id) VALUES ('00000000-0000-7000-8000-:uid') ON CONFLICT DO NOTHING;
INSERT INTO "payments" ("id", "user_id", "order_id", "amount_cents", "status", "idempotency_key", "created_at", "refunded_at") VALUES ('0190a000-0000-7000-9000-:pid', '00000000-0000-7000-8000-:uid', '0190a000-0000-7000-8000-:oid', 3670, 'captured', 'order:0190a000-0000-7000-8000-:oid:charge', now(), DEFAULT) RETURNING "refunded_at";
UPDATE wallets SET balance_cents = balance_cents + -3670, updated_at = now() WHERE user_id = '00000000-0000-7000-8000-:uid' AND balance_cents + -3670 >= 0 RETURNING balance_cents;
INSERT INTO "ledger_entries" ("id", "user_id", "kind", "amount_cents", "payment_id", "idempotency_key") VALUES (DEFAULT, '00000000-0000-7000-8000-:uid', 'charge', -3670, '0190a000-0000-7000-9000-:pid', DEFAULT) RETURNING "id", "idempotency_key";
commit;
-- orders: confirm (autocommit), then read the order back with its items
UPDATE "orders" AS "o" SET status = 'confirmed', updated_at = now(), payment_id = '0190a000-0000-7000-9000-:pid' WHERE (id = '0190a000-0000-7000-8000-:oid' AND status = 'pending');
SELECT "o"."id", "o"."customer_id", "o"."status", "o"."total_cents", "o"."payment_id", "o"."failure_reason", "o"."idempotency_key", "o"."request_hash", "o"."created_at", "o"."updated_at" FROM "orders" AS "o" WHERE (o.id = '0190a000-0000-7000-8000-:oid' AND customer_id = '00000000-0000-7000-8000-:uid');
SELECT "item_row"."order_id", "item_row"."line", "item_row"."sku", "item_row"."name", "item_row"."quantity", "item_row"."unit_price_cents" FROM "order_items" AS "item_row" WHERE ("item_row"."order_id" IN ('0190a000-0000-7000-8000-:oid')) ORDER BY "line";
