-- Dropping the child that references with ON DELETE CASCADE takes nothing else.
-- lint:allow DROP_TABLE items are replaced by a view
DROP TABLE items;
