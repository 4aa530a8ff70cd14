-- Owned by platform/events and applied to every module's schema.
-- The relay claims due deliveries in event order (delivery.go): walked on
-- this index, a claim reads about a batch of rows, not every pending one.
CREATE INDEX event_deliveries_due_idx ON event_deliveries (event_seq) WHERE status = 'pending';
