-- name: ListOrgAPIKeys :many
SELECT * FROM org_api_keys ORDER BY provider;

-- name: ReassignOrgAPIKeys :execrows
UPDATE org_api_keys SET set_by = sqlc.arg(to_user) WHERE set_by = sqlc.arg(from_user);
