-- Renaming parents away first rewrites items' foreign key to parents_old,
-- which is then dropped.
ALTER TABLE parents RENAME TO parents_old;
CREATE TABLE parents (id TEXT PRIMARY KEY, name TEXT);
INSERT INTO parents SELECT id, name FROM parents_old;
DROP TABLE parents_old;
