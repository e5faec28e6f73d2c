-- A new column in the middle: the copy names the columns on both sides.
CREATE TABLE items_new (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
  weight INTEGER NOT NULL DEFAULT 0,
  label TEXT CHECK (length(label) < 100),
  note TEXT
);
INSERT INTO items_new (id, parent_id, label, note) SELECT id, parent_id, label, note FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
INSERT INTO parents (id, name) SELECT 'archive', 'Archive' WHERE NOT EXISTS (SELECT 1 FROM parents WHERE id = 'archive');
