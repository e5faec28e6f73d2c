-- name: ListIntegrationsForUser :many
-- The user's own integrations plus every org-scoped one.
SELECT * FROM integrations
WHERE (user_id = sqlc.arg(user_id) AND scope = 'user') OR scope = 'org'
ORDER BY scope, service, id;

-- name: GetIntegration :one
SELECT * FROM integrations WHERE id = ?;

-- name: InsertIntegration :one
INSERT INTO integrations (id, user_id, service, config, status, scope)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: UpdateOrgIntegration :one
UPDATE integrations SET
  config = sqlc.arg(config),
  status = sqlc.arg(status),
  error_message = sqlc.arg(error_message),
  updated_at = sqlc.arg(updated_at)
WHERE id = sqlc.arg(id) AND scope = 'org'
RETURNING *;

-- name: DeleteOrgIntegration :execrows
DELETE FROM integrations WHERE id = ? AND scope = 'org';

-- name: ReassignOrgIntegrations :execrows
UPDATE integrations SET user_id = sqlc.arg(to_user) WHERE user_id = sqlc.arg(from_user) AND scope = 'org';
