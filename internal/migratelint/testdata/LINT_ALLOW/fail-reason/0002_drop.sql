-- lint:allow DROP_TABLE
DROP TABLE items;
