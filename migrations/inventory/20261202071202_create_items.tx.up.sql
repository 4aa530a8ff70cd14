-- The inventory module's first table, written by `app new module`; its
-- migrations run in its own schema (or database), so no name is qualified.
CREATE TABLE items (
    id         uuid PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
