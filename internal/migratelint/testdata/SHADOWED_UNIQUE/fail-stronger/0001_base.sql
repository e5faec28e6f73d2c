-- agent-ops' integrations: scope came later, so it is the last column.
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE integrations (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  created_at TEXT DEFAULT (datetime('now')),
  UNIQUE(user_id, service)
);
CREATE INDEX idx_integrations_user ON integrations(user_id);
ALTER TABLE integrations ADD COLUMN scope TEXT NOT NULL DEFAULT 'user';
