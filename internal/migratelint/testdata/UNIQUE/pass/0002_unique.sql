-- A plain index on an existing table, a unique one on a new table.
CREATE INDEX idx_parents_name ON parents(name);
CREATE TABLE tags (name TEXT);
CREATE UNIQUE INDEX idx_tags_name ON tags(name);
