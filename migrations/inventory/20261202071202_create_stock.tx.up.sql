-- Stock per SKU, in three counts that add up to what was stocked; the
-- database refuses a row where they do not, or where one goes negative, so
-- no bug upstream can oversell.
CREATE TABLE stock (
    sku       text PRIMARY KEY CHECK (sku <> ''),
    stocked   bigint NOT NULL CHECK (stocked >= 0),
    available bigint NOT NULL CHECK (available >= 0),
    reserved  bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sold      bigint NOT NULL DEFAULT 0 CHECK (sold >= 0),
    CHECK (available + reserved + sold = stocked)
);

-- One reservation per order: the primary key makes a repeated Reserve find
-- the first. A released one with no lines is a tombstone: the order gave
-- up before its Reserve arrived.
CREATE TABLE reservations (
    order_id   text PRIMARY KEY CHECK (order_id <> ''),
    status     text NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_lines (
    order_id text NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    sku      text NOT NULL REFERENCES stock (sku),
    quantity bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, sku)
);
