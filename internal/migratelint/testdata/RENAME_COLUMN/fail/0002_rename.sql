ALTER TABLE items RENAME COLUMN note TO remark;
