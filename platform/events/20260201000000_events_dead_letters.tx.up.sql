-- Owned by platform/events and applied to every module's schema.
-- Events this module, as a subscriber, gave up on after EVENTS_MAX_ATTEMPTS
-- when they came from a broker (EVENTS_BROKER=nats): the broker keeps no
-- per-subscriber state we can list or replay, so the subscriber keeps it.
-- 'pending' means replay was asked for and the event goes back in line.
CREATE TABLE event_dead_letters (
    event_id     uuid NOT NULL,
    subscriber   text NOT NULL,
    type         text NOT NULL,
    aggregate_id text NOT NULL,
    source       text NOT NULL,
    payload      jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'pending')),
    attempts     int NOT NULL,
    last_error   text NOT NULL,
    died_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, subscriber)
);
