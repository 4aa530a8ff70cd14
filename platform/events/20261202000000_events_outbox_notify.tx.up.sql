-- Owned by platform/events and applied to every module's schema.
-- Wakes the module's relay when an event commits (see wakeup.go): one
-- notification per inserting statement, sent by PostgreSQL on commit, on a
-- channel named by the schema, since channels are per database and several
-- modules can share one.
CREATE FUNCTION event_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mitosis_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END
$$;
CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_notify();
