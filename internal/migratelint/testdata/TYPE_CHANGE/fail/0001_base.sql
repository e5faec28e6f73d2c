-- The base schema of every fixture.
CREATE TABLE parents (id TEXT PRIMARY KEY, name TEXT);
CREATE TABLE items (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
  label TEXT CHECK (length(label) < 100),
  note TEXT
);
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
