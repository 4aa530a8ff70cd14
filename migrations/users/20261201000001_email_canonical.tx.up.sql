-- Uniqueness and login compare the canonical form of an email (Unicode
-- NFKC and case folding, the domain in IDNA ASCII), computed by the users
-- module in Go: PostgreSQL cannot compute it by the same rules, and its
-- lower() depends on the locale (it may fold İ to i). The address as typed
-- stays in email.
--
-- Existing rows keep working without a value: the column is nullable, a
-- unique index ignores NULLs, and a row without one is still found by its
-- address as typed. users fills the column for such rows each time it
-- starts (oldest account first); a row whose canonical form an older
-- account already holds keeps NULL, and the log names it.
ALTER TABLE users ADD COLUMN email_canonical text;
CREATE UNIQUE INDEX users_email_canonical_key ON users (email_canonical);
-- lower(email) would still refuse İvan beside ivan, which are two addresses.
DROP INDEX users_email_lower_key;
CREATE INDEX users_email_lower_idx ON users (lower(email)) WHERE email_canonical IS NULL;
