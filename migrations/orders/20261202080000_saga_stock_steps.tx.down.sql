-- A saga at a stock step goes on at the step that follows it without stock.
UPDATE sagas SET step = 'charge' WHERE step = 'reserve_stock';
UPDATE sagas SET step = 'cancel' WHERE step = 'release_stock';
ALTER TABLE sagas DROP CONSTRAINT sagas_step_check;
ALTER TABLE sagas ADD CONSTRAINT sagas_step_check CHECK (step IN
    ('check_customer', 'charge', 'confirm', 'void_charge', 'refund', 'cancel', 'done'));
