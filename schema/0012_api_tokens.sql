-- API tokens: bearer tokens with which a user of the organization calls
-- the HTTP API (orgdb serve, or a service mounting package httpapi).
--
-- Why: the HTTP layer needs an authenticated actor per request, and a
-- deployment without the original service's OAuth sessions needs a way to
-- give one. The token itself (a 256-bit random secret, shown once) is never
-- stored: only its SHA-256 (lower-case hex), looked up through the unique
-- index, and its first characters (prefix), so that a list can name a token
-- without revealing it. A token dies with its user (ON DELETE CASCADE); a
-- revoked one keeps its row (revoked_at) so that the list says what it was.
-- last_used_at is written at most once a minute per token, by one guarded
-- UPDATE.
--
-- Plain SQLite. The runner applies this file and its record in one
-- transaction. Once it has shipped, never edit it: write a new migration.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
  prefix TEXT NOT NULL CHECK (length(prefix) BETWEEN 1 AND 32),
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  last_used_at TEXT,
  expires_at TEXT,
  revoked_at TEXT
);

CREATE INDEX idx_api_tokens_user ON api_tokens(user_id);
CREATE INDEX idx_api_tokens_created ON api_tokens(created_at, id);
