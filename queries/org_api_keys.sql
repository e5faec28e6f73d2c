-- name: ListOrgAPIKeys :many
SELECT * FROM org_api_keys ORDER BY provider;
