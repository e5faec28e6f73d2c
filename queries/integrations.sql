-- name: ListIntegrationsForUser :many
-- The user's own integrations plus every org-scoped one.
SELECT * FROM integrations
WHERE (user_id = sqlc.arg(user_id) AND scope = 'user') OR scope = 'org'
ORDER BY scope, service, id;
