-- Owned by platform/events and applied to every module's schema.
-- The outbox: events written in the same transaction as the change.
CREATE TABLE event_outbox (
    seq           bigserial PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    type          text NOT NULL,
    aggregate_id  text NOT NULL,
    source        text NOT NULL,
    payload       jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL,
    fanned_out_at timestamptz
);
CREATE INDEX event_outbox_unfanned_idx ON event_outbox (seq) WHERE fanned_out_at IS NULL;

-- One row per (event, subscriber): the delivery state.
CREATE TABLE event_deliveries (
    event_seq       bigint NOT NULL REFERENCES event_outbox (seq) ON DELETE CASCADE,
    subscriber      text NOT NULL,
    aggregate_id    text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    PRIMARY KEY (event_seq, subscriber)
);
CREATE INDEX event_deliveries_pending_idx ON event_deliveries (subscriber, aggregate_id, event_seq) WHERE status = 'pending';
CREATE INDEX event_deliveries_dead_idx ON event_deliveries (event_seq) WHERE status = 'dead';

-- The inbox: events this module has handled, so a redelivery is a no-op.
CREATE TABLE event_inbox (
    event_id     uuid PRIMARY KEY,
    type         text NOT NULL,
    source       text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
