CREATE TABLE wallets (
    user_id       uuid PRIMARY KEY,
    balance_cents bigint NOT NULL DEFAULT 0 CHECK (balance_cents >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES wallets (user_id),
    order_id        uuid NOT NULL,
    amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
    status          text NOT NULL CHECK (status IN ('captured', 'refunded')),
    idempotency_key text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    refunded_at     timestamptz
);
CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC);
CREATE INDEX payments_order_idx ON payments (order_id);

-- The wallet balance is always the sum of its entries.
CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES wallets (user_id),
    kind            text NOT NULL CHECK (kind IN ('deposit', 'charge', 'refund')),
    amount_cents    bigint NOT NULL CHECK (amount_cents <> 0),
    payment_id      uuid REFERENCES payments (id),
    idempotency_key text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_user_idx ON ledger_entries (user_id);
-- At most one refund per payment.
CREATE UNIQUE INDEX ledger_entries_one_refund ON ledger_entries (payment_id) WHERE kind = 'refund';
