-- name: GetOrgSettings :one
SELECT * FROM org_settings WHERE id = 'default';
