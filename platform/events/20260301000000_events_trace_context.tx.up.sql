-- Owned by platform/events and applied to every module's schema.
-- The W3C trace context (traceparent, tracestate) of the transaction that
-- wrote an event, so its deliveries and handlings link to that change.
ALTER TABLE event_outbox
    ADD COLUMN trace_parent text NOT NULL DEFAULT '',
    ADD COLUMN trace_state  text NOT NULL DEFAULT '';
ALTER TABLE event_dead_letters
    ADD COLUMN trace_parent text NOT NULL DEFAULT '',
    ADD COLUMN trace_state  text NOT NULL DEFAULT '';
