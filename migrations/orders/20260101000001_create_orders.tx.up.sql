CREATE TABLE products (
    sku         text PRIMARY KEY,
    name        text NOT NULL,
    price_cents bigint NOT NULL CHECK (price_cents > 0)
);

CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    customer_id     uuid NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    total_cents     bigint NOT NULL CHECK (total_cents > 0),
    payment_id      uuid,
    failure_reason  text,
    idempotency_key text,
    request_hash    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC, id DESC);

CREATE TABLE order_items (
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line             int NOT NULL,
    sku              text NOT NULL,
    name             text NOT NULL,
    quantity         int NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents > 0),
    PRIMARY KEY (order_id, line)
);
