-- Ed25519 keys that sign access tokens. The private key (its 32-byte seed)
-- is sealed with AES-256-GCM under a key derived from SIGNING_KEY_SECRET,
-- nonce first, the kid as additional data. A retired key stays published
-- until every token it signed has expired.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    private_key bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL;

ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'customer'
    CHECK (role IN ('customer', 'admin'));
