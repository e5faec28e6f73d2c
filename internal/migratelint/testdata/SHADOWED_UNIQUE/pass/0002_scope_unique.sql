-- The fix agent-ops needed in 0005, done right: rebuild without the
-- table-level UNIQUE, copy by name, then the new unique index.
-- lint:allow REBUILD_LOST UNIQUE(user_id, service) gives way to the index on (user_id, service, scope)
CREATE TABLE integrations_new (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  scope TEXT NOT NULL DEFAULT 'user',
  created_at TEXT DEFAULT (datetime('now'))
);
INSERT INTO integrations_new (id, user_id, service, config, scope, created_at)
SELECT id, user_id, service, config, scope, created_at FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
CREATE UNIQUE INDEX idx_integrations_user_service ON integrations(user_id, service, scope);
CREATE INDEX idx_integrations_user ON integrations(user_id);
