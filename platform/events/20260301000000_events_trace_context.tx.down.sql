ALTER TABLE event_dead_letters DROP COLUMN trace_parent, DROP COLUMN trace_state;
ALTER TABLE event_outbox DROP COLUMN trace_parent, DROP COLUMN trace_state;
