ALTER TABLE users DROP COLUMN role;
DROP TABLE signing_keys;
