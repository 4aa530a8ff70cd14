INSERT INTO products (sku, name, price_cents) VALUES
    ('COFFEE-1KG',  'Coffee beans, 1 kg',     2490),
    ('MUG-CERAMIC', 'Ceramic mug',            1290),
    ('GRINDER-HND', 'Hand grinder',           5900),
    ('KETTLE-GOOS', 'Gooseneck kettle',       7450),
    ('FILTER-100',  'Paper filters, 100',      590),
    ('SCALE-DIGI',  'Digital scale',          3200)
ON CONFLICT (sku) DO NOTHING;
