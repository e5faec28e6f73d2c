-- Defence in depth: the database itself rejects values outside what the
-- service allows, whoever writes.

-- org_settings is rebuilt (it is one small row and nothing references it)
-- so that its flags are NOT NULL 0/1 and its single row is enforced:
-- existing NULL flags become 0 (false), any other non-zero value 1.
CREATE TABLE org_settings_new (
  id TEXT PRIMARY KEY DEFAULT 'default' CHECK (id = 'default'),
  name TEXT NOT NULL DEFAULT 'My Organization',
  allowed_email_domain TEXT,
  allowed_emails TEXT,
  domain_gating_enabled INTEGER NOT NULL DEFAULT 0 CHECK (domain_gating_enabled IN (0, 1)),
  email_allowlist_enabled INTEGER NOT NULL DEFAULT 0 CHECK (email_allowlist_enabled IN (0, 1)),
  created_at TEXT DEFAULT (datetime('now')),
  updated_at TEXT DEFAULT (datetime('now'))
);
INSERT INTO org_settings_new
SELECT id, name, allowed_email_domain, allowed_emails,
       coalesce(domain_gating_enabled, 0) <> 0, coalesce(email_allowlist_enabled, 0) <> 0,
       created_at, updated_at
FROM org_settings WHERE id = 'default';
INSERT OR IGNORE INTO org_settings_new (id) VALUES ('default');
DROP TABLE org_settings;
ALTER TABLE org_settings_new RENAME TO org_settings;

-- SQLite cannot add CHECK constraints to the other tables with ALTER TABLE,
-- so roles, scopes and providers are checked by triggers; RAISE(ABORT)
-- fails the statement with SQLITE_CONSTRAINT_TRIGGER.

CREATE TRIGGER users_role_insert BEFORE INSERT ON users
WHEN NEW.role NOT IN ('admin', 'member')
BEGIN SELECT RAISE(ABORT, 'invalid role: must be admin or member'); END;

CREATE TRIGGER users_role_update BEFORE UPDATE OF role ON users
WHEN NEW.role NOT IN ('admin', 'member')
BEGIN SELECT RAISE(ABORT, 'invalid role: must be admin or member'); END;

CREATE TRIGGER invites_role_insert BEFORE INSERT ON invites
WHEN NEW.role NOT IN ('admin', 'member')
BEGIN SELECT RAISE(ABORT, 'invalid invite role: must be admin or member'); END;

CREATE TRIGGER invites_role_update BEFORE UPDATE OF role ON invites
WHEN NEW.role NOT IN ('admin', 'member')
BEGIN SELECT RAISE(ABORT, 'invalid invite role: must be admin or member'); END;

CREATE TRIGGER integrations_scope_insert BEFORE INSERT ON integrations
WHEN NEW.scope NOT IN ('user', 'org')
BEGIN SELECT RAISE(ABORT, 'invalid integration scope: must be user or org'); END;

CREATE TRIGGER integrations_scope_update BEFORE UPDATE OF scope ON integrations
WHEN NEW.scope NOT IN ('user', 'org')
BEGIN SELECT RAISE(ABORT, 'invalid integration scope: must be user or org'); END;

CREATE TRIGGER org_api_keys_provider_insert BEFORE INSERT ON org_api_keys
WHEN NEW.provider NOT IN ('anthropic', 'openai', 'google')
BEGIN SELECT RAISE(ABORT, 'invalid provider: must be anthropic, openai or google'); END;

CREATE TRIGGER org_api_keys_provider_update BEFORE UPDATE OF provider ON org_api_keys
WHEN NEW.provider NOT IN ('anthropic', 'openai', 'google')
BEGIN SELECT RAISE(ABORT, 'invalid provider: must be anthropic, openai or google'); END;

-- Invite expiry is compared as text against the current time, which is only
-- correct when every value has the layout of datetime('now'):
-- 'YYYY-MM-DD HH:MM:SS' with optional fractional seconds. An RFC 3339 value
-- ('2026-11-28T10:00:00Z') sorts after every datetime('now') of its day, so
-- an invite that expired this morning would still look valid. Rewrite any
-- such value already stored, then refuse new ones.
UPDATE invites SET expires_at = strftime('%Y-%m-%d %H:%M:%f', expires_at)
WHERE (expires_at GLOB '*[TZ]*' OR substr(expires_at, 20) GLOB '*[+-]*') AND strftime('%Y-%m-%d %H:%M:%f', expires_at) IS NOT NULL;

UPDATE invites SET accepted_at = strftime('%Y-%m-%d %H:%M:%f', accepted_at)
WHERE (accepted_at GLOB '*[TZ]*' OR substr(accepted_at, 20) GLOB '*[+-]*') AND strftime('%Y-%m-%d %H:%M:%f', accepted_at) IS NOT NULL;

CREATE TRIGGER invites_times_insert BEFORE INSERT ON invites
WHEN NOT (substr(NEW.expires_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
       AND (length(NEW.expires_at) = 19 OR (length(NEW.expires_at) > 20 AND substr(NEW.expires_at, 20, 1) = '.' AND substr(NEW.expires_at, 21) NOT GLOB '*[^0-9]*'))
       AND datetime(NEW.expires_at) IS NOT NULL)
  OR (NEW.accepted_at IS NOT NULL AND NOT (substr(NEW.accepted_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
       AND (length(NEW.accepted_at) = 19 OR (length(NEW.accepted_at) > 20 AND substr(NEW.accepted_at, 20, 1) = '.' AND substr(NEW.accepted_at, 21) NOT GLOB '*[^0-9]*'))
       AND datetime(NEW.accepted_at) IS NOT NULL))
BEGIN SELECT RAISE(ABORT, 'invalid invite timestamp: must be UTC YYYY-MM-DD HH:MM:SS[.fff]'); END;

CREATE TRIGGER invites_times_update BEFORE UPDATE OF expires_at, accepted_at ON invites
WHEN NOT (substr(NEW.expires_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
       AND (length(NEW.expires_at) = 19 OR (length(NEW.expires_at) > 20 AND substr(NEW.expires_at, 20, 1) = '.' AND substr(NEW.expires_at, 21) NOT GLOB '*[^0-9]*'))
       AND datetime(NEW.expires_at) IS NOT NULL)
  OR (NEW.accepted_at IS NOT NULL AND NOT (substr(NEW.accepted_at, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
       AND (length(NEW.accepted_at) = 19 OR (length(NEW.accepted_at) > 20 AND substr(NEW.accepted_at, 20, 1) = '.' AND substr(NEW.accepted_at, 21) NOT GLOB '*[^0-9]*'))
       AND datetime(NEW.accepted_at) IS NOT NULL))
BEGIN SELECT RAISE(ABORT, 'invalid invite timestamp: must be UTC YYYY-MM-DD HH:MM:SS[.fff]'); END;
