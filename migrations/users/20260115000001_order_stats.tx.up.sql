-- Each customer's order statistics, kept from the orders module's events.
CREATE TABLE order_stats (
    user_id           uuid PRIMARY KEY,
    orders_confirmed  int NOT NULL DEFAULT 0,
    total_spent_cents bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
