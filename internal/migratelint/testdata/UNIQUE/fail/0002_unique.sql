CREATE UNIQUE INDEX idx_parents_name ON parents(name);
