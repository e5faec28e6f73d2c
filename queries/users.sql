-- name: GetUser :one
SELECT * FROM users WHERE id = ?;

-- name: GetUserRole :one
-- The role of the user with this id, by the primary key: what the store's
-- rules read of the acting user, inside the write's own transaction.
SELECT role FROM users WHERE id = ?;

-- name: GetUserByEmail :one
-- Case-insensitive, served by idx_users_email_lower.
SELECT * FROM users WHERE lower(email) = lower(trim(sqlc.arg(email)));

-- name: ListUsers :many
-- A page of users, oldest first, after the cursor: the created_at and id
-- of the last user of the previous page (for the first page the store
-- passes a created_at before every row). created_at has one-second
-- resolution (datetime('now')), so rowid, which grows with each insert,
-- orders the users of one second; the cursor's rowid is looked up by id
-- (a cursor user deleted meanwhile gives -1: that second's users again,
-- never a skipped one). Served by idx_users_created (created_at, then
-- rowid): a page costs the same however many users there are.
SELECT * FROM users
WHERE users.created_at >= sqlc.arg(after_created_at)
  AND NOT (users.created_at = sqlc.arg(after_created_at)
           AND users.rowid <= coalesce((SELECT c.rowid FROM users AS c WHERE c.id = sqlc.arg(after_id)), -1))
ORDER BY users.created_at, users.rowid
LIMIT sqlc.arg(page_size);

-- name: CountUsers :one
SELECT COUNT(*) FROM users;

-- name: HasUsers :one
-- Whether the organization has any user, without counting them.
SELECT EXISTS (SELECT 1 FROM users) AS has_users;

-- name: CountAdmins :one
-- Served by idx_users_role: counts the admins only.
SELECT COUNT(*) FROM users WHERE role = 'admin';

-- name: InsertUser :one
INSERT INTO users (id, email, name, avatar_url, github_id, github_username, role)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: UpdateUserRole :execrows
-- Sets the role unless that would demote the last admin, and returns the
-- rows changed: 1, or 0 for no such user or the last admin. The guard and
-- the write are one statement, so two admins demoting each other at once
-- cannot leave none. Read the user back with GetUser in the same
-- transaction: with RETURNING the write took about 10 us (a third) longer
-- than the two statements (bench, 2026-12-04).
UPDATE users SET role = sqlc.arg(role), updated_at = sqlc.arg(now)
WHERE users.id = sqlc.arg(id)
  AND (users.role = sqlc.arg(role) OR users.role <> 'admin'
       OR (SELECT COUNT(*) FROM users AS a WHERE a.role = 'admin') > 1);

-- name: DeleteUser :execrows
-- Deletes the user unless they are the last admin, in one statement.
DELETE FROM users
WHERE users.id = sqlc.arg(id)
  AND (users.role <> 'admin' OR (SELECT COUNT(*) FROM users AS a WHERE a.role = 'admin') > 1);

-- name: BootstrapAdmin :execrows
-- Promotes the user with this email to admin only if there is no admin,
-- in one statement.
UPDATE users SET role = 'admin', updated_at = sqlc.arg(now)
WHERE lower(users.email) = lower(trim(sqlc.arg(email)))
  AND NOT EXISTS (SELECT 1 FROM users AS a WHERE a.role = 'admin');

-- name: CountUserReferences :one
-- What would keep the user from being deleted cleanly: invites they sent,
-- org API keys they set, org integrations they own.
SELECT
  (SELECT COUNT(*) FROM invites WHERE invited_by = sqlc.arg(id)) AS invites,
  (SELECT COUNT(*) FROM org_api_keys WHERE set_by = sqlc.arg(id)) AS org_api_keys,
  (SELECT COUNT(*) FROM integrations WHERE user_id = sqlc.arg(id) AND scope = 'org') AS org_integrations;

-- name: ListUsersJSON :one
-- Every user, oldest first, as the JSON array the web client reads (GET
-- /api/admin/users), written by SQLite in one statement: no per-row work in
-- Go, and no JSON parsing (json_quote escapes each value). The keys are
-- db.User's JSON tags; an optional column that is NULL is left out; a time
-- stored in orgdb's layout is written as Go writes it (RFC 3339, UTC, the
-- fraction as stored), any other as RFC 3339 with milliseconds.
-- TestUsersJSON in package httpapi compares it with the rows' JSON.
SELECT CAST('[' || coalesce(group_concat(u.obj, ','), '') || ']' AS TEXT) AS users_json
FROM (
  SELECT '{"id":' || json_quote(users.id) || ',"email":' || json_quote(users.email)
    || CASE WHEN users.name IS NULL THEN '' ELSE ',"name":' || json_quote(users.name) END
    || CASE WHEN users.avatar_url IS NULL THEN '' ELSE ',"avatarUrl":' || json_quote(users.avatar_url) END
    || CASE WHEN users.github_id IS NULL THEN '' ELSE ',"githubId":' || json_quote(users.github_id) END
    || CASE WHEN users.github_username IS NULL THEN '' ELSE ',"githubUsername":' || json_quote(users.github_username) END
    || ',"createdAt":' || json_quote(CASE
      WHEN users.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
        OR users.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*[1-9]'
      THEN replace(users.created_at, ' ', 'T') || 'Z'
      ELSE strftime('%Y-%m-%dT%H:%M:%fZ', users.created_at) END)
    || ',"updatedAt":' || json_quote(CASE
      WHEN users.updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
        OR users.updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*[1-9]'
      THEN replace(users.updated_at, ' ', 'T') || 'Z'
      ELSE strftime('%Y-%m-%dT%H:%M:%fZ', users.updated_at) END)
    || ',"role":' || json_quote(users.role) || '}' AS obj
  FROM users
  ORDER BY users.created_at, users.rowid
) AS u;
