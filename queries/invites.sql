-- name: GetInviteByEmail :one
-- Only a valid invite: not accepted and not expired at now.
SELECT * FROM invites
WHERE email = lower(trim(sqlc.arg(email)))
  AND accepted_at IS NULL
  AND expires_at > sqlc.arg(now);

-- name: ListInvites :many
SELECT * FROM invites ORDER BY created_at DESC, id DESC;

-- name: InsertInvite :one
INSERT INTO invites (id, email, role, invited_by, expires_at)
VALUES (?, ?, ?, ?, ?)
RETURNING *;
