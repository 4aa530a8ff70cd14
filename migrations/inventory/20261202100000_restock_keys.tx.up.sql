-- Keyed restocks: a repeat with the same Idempotency-Key finds its first
-- and adds nothing. The key is taken before the stock moves, so its SKU
-- may be new: no reference to stock.
CREATE TABLE restocks (
    idempotency_key text PRIMARY KEY CHECK (idempotency_key <> ''),
    sku             text NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity > 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
