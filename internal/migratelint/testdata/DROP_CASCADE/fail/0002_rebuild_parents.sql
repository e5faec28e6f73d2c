-- Rebuilding parents drops it: its items go with it.
CREATE TABLE parents_new (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO parents_new SELECT id, coalesce(name, '') FROM parents;
DROP TABLE parents;
ALTER TABLE parents_new RENAME TO parents;
