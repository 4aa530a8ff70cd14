-- The saga holds the order's stock: reserve_stock before charge, and its
-- compensation release_stock before cancel.
ALTER TABLE sagas DROP CONSTRAINT sagas_step_check;
ALTER TABLE sagas ADD CONSTRAINT sagas_step_check CHECK (step IN
    ('check_customer', 'reserve_stock', 'charge', 'confirm', 'void_charge', 'refund', 'release_stock', 'cancel', 'done'));
