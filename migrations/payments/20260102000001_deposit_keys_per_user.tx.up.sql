-- Idempotency keys of deposits come from clients, so they are scoped to the
-- user: two users may pick the same key without colliding.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_idempotency_key_key;
CREATE UNIQUE INDEX ledger_entries_user_key ON ledger_entries (user_id, idempotency_key);
