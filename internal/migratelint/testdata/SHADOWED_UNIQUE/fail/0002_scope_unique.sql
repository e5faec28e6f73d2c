-- The original agent-ops 0004: a user may have a user- and an org-scoped
-- integration of one service... but UNIQUE(user_id, service) still applies.
DROP INDEX IF EXISTS idx_integrations_user_service;
CREATE UNIQUE INDEX idx_integrations_user_service ON integrations(user_id, service, scope);
