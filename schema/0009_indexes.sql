-- Indexes so that every lookup stays fast as tables grow (see the EXPLAIN
-- QUERY PLAN test in store/plan_test.go).

-- The admin count behind the last-admin guard reads the admins only.
CREATE INDEX idx_users_role ON users(role);
-- Users oldest first without sorting the table.
CREATE INDEX idx_users_created ON users(created_at);
-- Invites newest first, a page at a time, without sorting the table.
CREATE INDEX idx_invites_created ON invites(created_at, id);
-- Invites a user sent: deleting or reassigning a user, and the foreign key
-- check when a user is deleted.
CREATE INDEX idx_invites_invited_by ON invites(invited_by);
-- Expired, unaccepted invites for DeleteExpiredInvites.
CREATE INDEX idx_invites_pending_expiry ON invites(expires_at) WHERE accepted_at IS NULL;
-- Integrations by scope and owner: a user's own ones and every org-scoped
-- one (ListIntegrationsForUser), and the org ones a user owns.
CREATE INDEX idx_integrations_scope_user ON integrations(scope, user_id);
-- org_api_keys.set_by, for the foreign key check when a user is deleted.
CREATE INDEX idx_org_api_keys_set_by ON org_api_keys(set_by);

-- Invites are listed by created_at, so one without it would never be
-- listed: give existing ones the migration time, and refuse NULL from now
-- on (an INSERT that omits the column still gets the default).
UPDATE invites SET created_at = datetime('now') WHERE created_at IS NULL;

CREATE TRIGGER invites_created_at_insert BEFORE INSERT ON invites
WHEN NEW.created_at IS NULL
BEGIN SELECT RAISE(ABORT, 'invite created_at is required'); END;

CREATE TRIGGER invites_created_at_update BEFORE UPDATE OF created_at ON invites
WHEN NEW.created_at IS NULL
BEGIN SELECT RAISE(ABORT, 'invite created_at is required'); END;
