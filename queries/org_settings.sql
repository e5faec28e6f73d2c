-- name: GetOrgSettings :one
SELECT * FROM org_settings WHERE id = 'default';

-- name: UpdateOrgSettings :one
-- Replaces every field; partial updates read, merge and write in one
-- transaction (store.UpdateOrgSettings).
UPDATE org_settings SET
  name = sqlc.arg(name),
  allowed_email_domain = sqlc.arg(allowed_email_domain),
  allowed_emails = sqlc.arg(allowed_emails),
  domain_gating_enabled = sqlc.arg(domain_gating_enabled),
  email_allowlist_enabled = sqlc.arg(email_allowlist_enabled),
  updated_at = sqlc.arg(updated_at)
WHERE id = 'default'
RETURNING *;
