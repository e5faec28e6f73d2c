-- The same key, written another way, and a new column.
CREATE TABLE items_new (
  id TEXT NOT NULL PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
  label TEXT CHECK (length(label) < 100),
  note TEXT,
  weight INTEGER NOT NULL DEFAULT 0
);
INSERT INTO items_new (id, parent_id, label, note) SELECT id, parent_id, label, note FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
