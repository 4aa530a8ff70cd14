-- orders: the W3C traceparent of the request that started a saga's run
-- (the placement, or a cancellation), so a run the recovery worker
-- resumes is linked to it.
ALTER TABLE sagas ADD COLUMN trace_parent text NOT NULL DEFAULT '';
