-- lint:allow ROWS_LOST the fixture is about DATA_CHANGE
DELETE FROM items;
