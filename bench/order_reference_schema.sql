-- The schema of the order reference (bench/order_reference.sql), created by
-- bench/run.sh in a database of its own, not by the app's migrations: the
-- reference must not move when our code does. It holds what a durable
-- three-step order saga with transactional events needs and no more: the
-- keys, the unique constraints and CHECKs that guard the invariants (one
-- payment per order, no negative balance, one inbox row per event), and no
-- secondary index a relay's batched read would want (the reference leaves
-- that read out, see bench/order_reference.sql).
--
-- psql -v clients=N: seeds one customer with a wallet per pgbench client,
-- customer N numbered like the script's :client_id + 1.
DROP SCHEMA IF EXISTS ref CASCADE;
CREATE SCHEMA ref;
SET search_path = ref;

CREATE TABLE customers (
    id    uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name  text NOT NULL
);

CREATE TABLE products (
    sku         text PRIMARY KEY,
    name        text NOT NULL,
    price_cents bigint NOT NULL CHECK (price_cents > 0)
);

CREATE TABLE orders (
    id          uuid PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id),
    status      text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    total_cents bigint NOT NULL CHECK (total_cents > 0),
    payment_id  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
    order_id         uuid NOT NULL REFERENCES orders (id),
    line             int NOT NULL,
    sku              text NOT NULL,
    quantity         int NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL,
    PRIMARY KEY (order_id, line)
);

-- The saga's durable state: the step it is at, so a worker resumes it
-- after a crash.
CREATE TABLE sagas (
    order_id   uuid PRIMARY KEY REFERENCES orders (id),
    step       text NOT NULL CHECK (step IN ('charge', 'done', 'compensate')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wallets (
    customer_id   uuid PRIMARY KEY REFERENCES customers (id),
    balance_cents bigint NOT NULL CHECK (balance_cents >= 0)
);

CREATE TABLE payments (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL UNIQUE, -- a repeated charge step cannot charge twice
    customer_id  uuid NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The transactional outbox, written in the transaction of each change.
CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    id           uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    aggregate_id uuid NOT NULL,
    payload      jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);

-- The subscriber's inbox (a redelivered event has no second effect) and
-- its read model.
CREATE TABLE inbox (
    event_id     uuid PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_stats (
    customer_id       uuid PRIMARY KEY,
    orders_confirmed  int NOT NULL,
    total_spent_cents bigint NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

INSERT INTO products (sku, name, price_cents) VALUES
    ('COFFEE-1KG', 'Coffee beans, 1 kg', 2490),
    ('FILTER-100', 'Paper filters, 100', 590);

INSERT INTO customers (id, email, name)
SELECT ('00000000-0000-7000-8000-' || (100000000000 + g))::uuid, 'ref-' || g || '@example.com', 'Reference ' || g
FROM generate_series(1, :clients) g;

-- 1,000,000.00 each, as the bench's users have.
INSERT INTO wallets (customer_id, balance_cents) SELECT id, 100000000 FROM customers;
