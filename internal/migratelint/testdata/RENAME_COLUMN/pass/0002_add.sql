-- The expand step of expand/contract: add, backfill, keep the old column.
ALTER TABLE items ADD COLUMN remark TEXT;
UPDATE items SET remark = note;
