-- note becomes NOT NULL with a backfill; locale gets a default.
ALTER TABLE parents ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
CREATE TABLE items_new (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
  label TEXT CHECK (length(label) < 100),
  note TEXT NOT NULL
);
INSERT INTO items_new (id, parent_id, label, note) SELECT id, parent_id, label, coalesce(note, '') FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
