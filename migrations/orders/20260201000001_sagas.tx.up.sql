-- The state of each order's saga: the step to run next ('done' once the
-- order is confirmed or cancelled), when to try it, until when forward
-- steps may run, and who holds it (a lease, so one runner at a time).
CREATE TABLE sagas (
    order_id        uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    step            text NOT NULL CHECK (step IN ('check_customer', 'charge', 'confirm', 'void_charge', 'refund', 'cancel', 'done')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    deadline_at     timestamptz NOT NULL,
    lease_owner     text,
    lease_until     timestamptz NOT NULL DEFAULT '-infinity',
    payment_id      uuid,
    failure_reason  text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sagas_due_idx ON sagas (next_attempt_at) WHERE step <> 'done';

-- Every step's outcome, in order: the history the API shows.
CREATE TABLE saga_steps (
    order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    seq      int NOT NULL,
    step     text NOT NULL,
    outcome  text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'retrying')),
    detail   text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, seq)
);

-- Orders left pending by the synchronous placement resume at their charge.
INSERT INTO sagas (order_id, step, deadline_at)
SELECT id, 'charge', now() + interval '1 hour' FROM orders WHERE status = 'pending';
