-- The original agent-ops 0005: the new table has scope before created_at,
-- the old one has it last, and SELECT * copies by position.
CREATE TABLE integrations_new (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  scope TEXT NOT NULL DEFAULT 'user',
  created_at TEXT DEFAULT (datetime('now'))
);
INSERT INTO integrations_new SELECT * FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
CREATE UNIQUE INDEX idx_integrations_user_service ON integrations(user_id, service, scope);
CREATE INDEX idx_integrations_user ON integrations(user_id);
