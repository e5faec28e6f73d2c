-- name: ListOrgAPIKeys :many
-- Never returns the sealed value: only the id of the sealing key from its
-- header ("v1:<key-id>:<sealed>"). Keep this file ASCII: a multi-byte
-- character in a comment shifts sqlc's offsets and garbles the queries
-- after it (sqlc v1.31.1).
SELECT id, provider, set_by, created_at, updated_at,
       CAST(substr(encrypted_key, 4, instr(substr(encrypted_key, 4), ':') - 1) AS TEXT) AS sealed_with
FROM org_api_keys ORDER BY provider;

-- name: GetOrgAPIKey :one
SELECT * FROM org_api_keys WHERE provider = ?;

-- name: UpsertOrgAPIKey :one
-- One row per provider: setting it again replaces the sealed value and
-- refreshes set_by and updated_at.
INSERT INTO org_api_keys (id, provider, encrypted_key, set_by, created_at, updated_at)
VALUES (sqlc.arg(id), sqlc.arg(provider), sqlc.arg(encrypted_key), sqlc.arg(set_by), sqlc.arg(now), sqlc.arg(now))
ON CONFLICT (provider) DO UPDATE SET
  encrypted_key = excluded.encrypted_key,
  set_by = excluded.set_by,
  updated_at = excluded.updated_at
RETURNING *;

-- name: DeleteOrgAPIKey :execrows
DELETE FROM org_api_keys WHERE provider = ?;

-- name: ListSealedOrgAPIKeys :many
-- For re-sealing under a new key.
SELECT id, provider, encrypted_key FROM org_api_keys ORDER BY provider;

-- name: ResealOrgAPIKey :execrows
-- Replaces the sealed value only if it is still the one that was read.
UPDATE org_api_keys SET encrypted_key = sqlc.arg(new_sealed)
WHERE id = sqlc.arg(id) AND encrypted_key = sqlc.arg(old_sealed);

-- name: ReassignOrgAPIKeys :execrows
UPDATE org_api_keys SET set_by = sqlc.arg(to_user) WHERE set_by = sqlc.arg(from_user);
