-- name: InsertAPIToken :one
-- A new token for a user: only its hash and prefix are stored.
INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, expires_at)
VALUES (sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(name), sqlc.arg(token_hash), sqlc.arg(prefix), sqlc.arg(created_at), sqlc.narg(expires_at))
RETURNING *;

-- name: GetAPITokenByHash :one
-- The token with this hash that may be used at now: not revoked, not
-- expired, with its user's role ('' if the user is gone, though ON DELETE
-- CASCADE removes the token with them). Served by the unique index on
-- token_hash and the users' primary key; the role is a scalar subquery
-- rather than a JOIN, which measured twice as slow here. expires_text is
-- the expiry as stored ('' for none): a row cached until the next commit
-- (apitoken's cache) is checked against the clock with this same TEXT
-- comparison.
SELECT api_tokens.id, api_tokens.user_id, api_tokens.token_hash, api_tokens.last_used_at,
       CAST(coalesce((SELECT users.role FROM users WHERE users.id = api_tokens.user_id), '') AS TEXT) AS role,
       CAST(coalesce(api_tokens.expires_at, '') AS TEXT) AS expires_text
FROM api_tokens
WHERE api_tokens.token_hash = sqlc.arg(token_hash)
  AND api_tokens.revoked_at IS NULL
  AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > sqlc.arg(now));

-- name: TouchAPIToken :execrows
-- Records a use of the token at most once a minute: the guard is part of
-- the statement, so concurrent requests write it once. Zero rows: written
-- within the last minute already (or no such token).
UPDATE api_tokens SET last_used_at = sqlc.arg(now)
WHERE id = sqlc.arg(id)
  AND (last_used_at IS NULL OR last_used_at <= CAST(sqlc.arg(stale_before) AS TEXT));

-- name: GetAPIToken :one
SELECT * FROM api_tokens WHERE id = ?;

-- name: ListAPITokens :many
-- Every token with its user's email, oldest first; never a hash.
SELECT api_tokens.id, api_tokens.user_id, users.email, api_tokens.name, api_tokens.prefix,
       api_tokens.created_at, api_tokens.last_used_at, api_tokens.expires_at, api_tokens.revoked_at
FROM api_tokens JOIN users ON users.id = api_tokens.user_id
ORDER BY api_tokens.created_at, api_tokens.id;

-- name: RevokeAPIToken :execrows
-- Revokes a token that is not revoked yet. Zero rows: no such token, or
-- revoked already.
UPDATE api_tokens SET revoked_at = sqlc.arg(now)
WHERE id = sqlc.arg(id) AND revoked_at IS NULL;
