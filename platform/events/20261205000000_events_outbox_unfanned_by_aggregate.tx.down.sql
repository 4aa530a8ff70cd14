DROP INDEX IF EXISTS event_outbox_unfanned_aggregate_idx;
