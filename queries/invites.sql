-- name: GetInvite :one
SELECT * FROM invites WHERE id = ?;

-- name: GetInviteByEmail :one
-- Only a valid invite: not accepted and not expired at now.
SELECT * FROM invites
WHERE email = lower(trim(sqlc.arg(email)))
  AND accepted_at IS NULL
  AND expires_at > sqlc.arg(now);

-- name: ListInvites :many
-- A page of invites, newest first, each with its status at now. The page
-- starts after the cursor (the created_at and id of the last row of the
-- previous page); for the first page pass a cursor after every row (the
-- store passes 9999-12-31). Served by idx_invites_created, so a page costs
-- the same however many invites there are. Expiry compares as text, which
-- is correct because 0007 guarantees the datetime('now') layout.
SELECT id, email, role, invited_by, accepted_at, expires_at, created_at,
       CAST(CASE
              WHEN accepted_at IS NOT NULL THEN 'accepted'
              WHEN expires_at <= sqlc.arg(now) THEN 'expired'
              ELSE 'pending'
            END AS invite_status_text) AS status
FROM invites
WHERE created_at <= sqlc.arg(before_created_at)
  AND NOT (created_at = sqlc.arg(before_created_at) AND id >= sqlc.arg(before_id))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- name: HasInvites :one
-- Whether any invite exists, without counting them.
SELECT EXISTS (SELECT 1 FROM invites) AS has_invites;

-- name: UpsertInvite :one
-- One invite per email: inviting again replaces the invite (a new id, role,
-- inviter and expiry), whatever its state.
INSERT INTO invites (id, email, role, invited_by, expires_at, created_at)
VALUES (sqlc.arg(id), sqlc.arg(email), sqlc.arg(role), sqlc.arg(invited_by), sqlc.arg(expires_at), sqlc.arg(created_at))
ON CONFLICT (email) DO UPDATE SET
  id = excluded.id,
  role = excluded.role,
  invited_by = excluded.invited_by,
  expires_at = excluded.expires_at,
  created_at = excluded.created_at,
  accepted_at = NULL
RETURNING *;

-- name: AcceptInvite :one
-- Marks a valid invite accepted. The guard and the write are one
-- statement, so an invite is accepted at most once however many try.
-- accepted_at is the time of acceptance, now the time expiry is checked
-- against; callers pass the same instant.
UPDATE invites SET accepted_at = sqlc.arg(accepted_at)
WHERE id = sqlc.arg(id) AND accepted_at IS NULL AND expires_at > sqlc.arg(now)
RETURNING *;

-- name: DeleteInvite :execrows
DELETE FROM invites WHERE id = ?;

-- name: DeleteExpiredInvites :execrows
DELETE FROM invites WHERE accepted_at IS NULL AND expires_at <= sqlc.arg(now);

-- name: ReassignInvites :execrows
UPDATE invites SET invited_by = sqlc.arg(to_user) WHERE invited_by = sqlc.arg(from_user);
