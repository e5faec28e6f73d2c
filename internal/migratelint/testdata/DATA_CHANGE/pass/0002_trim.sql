UPDATE items SET label = trim(label) WHERE label <> trim(label);
DELETE FROM items WHERE parent_id NOT IN (SELECT id FROM parents);
-- A backfill of a column this migration adds changes no existing value.
ALTER TABLE items ADD COLUMN remark TEXT;
UPDATE items SET remark = (SELECT name FROM parents WHERE parents.id = items.parent_id);
