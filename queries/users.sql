-- name: GetUser :one
SELECT * FROM users WHERE id = ?;

-- name: ListUsers :many
SELECT * FROM users ORDER BY created_at, id;

-- name: CountUsers :one
SELECT COUNT(*) FROM users;

-- name: InsertUser :one
INSERT INTO users (id, email, name, avatar_url, github_id, github_username, role)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING *;
