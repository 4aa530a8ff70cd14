-- Charge keys voided by their caller (an order saga that gave up): a charge
-- with one of these keys is refused, whether it comes before or after.
CREATE TABLE voided_charges (
    charge_key text PRIMARY KEY,
    user_id    uuid NOT NULL,
    voided_at  timestamptz NOT NULL DEFAULT now()
);
