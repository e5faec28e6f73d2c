-- lint:allow DROP_NOT_NULL items without a parent are drafts; the service reads ParentID as *string from this release on
CREATE TABLE items_new (
  id TEXT PRIMARY KEY,
  parent_id TEXT REFERENCES parents(id) ON DELETE CASCADE,
  label TEXT CHECK (length(label) < 100),
  note TEXT
);
INSERT INTO items_new (id, parent_id, label, note) SELECT id, parent_id, label, note FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE TRIGGER items_label BEFORE INSERT ON items WHEN NEW.label = '' BEGIN SELECT RAISE(ABORT, 'empty label'); END;
