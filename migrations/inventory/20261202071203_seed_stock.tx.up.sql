-- The catalog's SKUs (migrations/orders seeds their names and prices), each
-- stocked for a busy start; admins restock through the API.
INSERT INTO stock (sku, stocked, available) VALUES
    ('COFFEE-1KG',  10000, 10000),
    ('MUG-CERAMIC', 10000, 10000),
    ('GRINDER-HND', 10000, 10000),
    ('KETTLE-GOOS', 10000, 10000),
    ('FILTER-100',  10000, 10000),
    ('SCALE-DIGI',  10000, 10000)
ON CONFLICT (sku) DO NOTHING;
