-- lint:allow DROP_TABLE left over from an earlier draft
ALTER TABLE items ADD COLUMN note2 TEXT;
