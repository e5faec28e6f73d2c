-- Rebuilt without its CHECK, index, trigger and the foreign key's cascade.
CREATE TABLE items_new (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL REFERENCES parents(id),
  label TEXT,
  note TEXT
);
INSERT INTO items_new SELECT id, parent_id, label, note FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
