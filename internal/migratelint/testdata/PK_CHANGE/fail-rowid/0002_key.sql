-- INT is not INTEGER: id stops being the rowid.
CREATE TABLE counters_new (id INT PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0);
INSERT INTO counters_new (id, name, n) SELECT id, name, n FROM counters;
DROP TABLE counters;
ALTER TABLE counters_new RENAME TO counters;
