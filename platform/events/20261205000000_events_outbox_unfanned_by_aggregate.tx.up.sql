-- Owned by platform/events and applied to every module's schema.
-- A claim waits for an aggregate's earlier event that is not fanned out yet
-- (one no Wake fanned out on write: a writer in another process), probed
-- here by aggregate: on event_outbox_unfanned_idx, by seq alone, the probe
-- walked every entry a backlog's fan-out had left behind. Events written
-- with their deliveries are fanned out at insert and enter neither index.
CREATE INDEX event_outbox_unfanned_aggregate_idx ON event_outbox (aggregate_id, seq) WHERE fanned_out_at IS NULL;
