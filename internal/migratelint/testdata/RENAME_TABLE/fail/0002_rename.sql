ALTER TABLE parents RENAME TO owners;
