-- Owned by platform/events and applied to every module's schema.
-- The relay is now woken in-process by the writer's commit (wake.go), so
-- the NOTIFY trigger goes: PostgreSQL serialises the commits of
-- transactions that notify, which capped every event-writing transaction
-- (BENCHMARKS.md, "The wake-up caps the publishers").
DROP TRIGGER IF EXISTS event_outbox_notify ON event_outbox;
DROP FUNCTION IF EXISTS event_outbox_notify();
