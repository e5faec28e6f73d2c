package store

import "testing"

func TestIsRead(t *testing.T) {
	for q, want := range map[string]bool{
		"-- name: GetUser :one\nSELECT * FROM users WHERE id = ?":  true,
		"-- name: X :many\n-- a comment\n  select id FROM invites": true,
		"SELECT(1)": true,
		"SELECT":    true,
		"-- name: InsertUser :one\nINSERT INTO users (id) VALUES (?) RETURNING *": false,
		"-- name: UpdateUserRole :execrows\nUPDATE users SET role = ?":            false,
		"DELETE FROM invites": false,
		"WITH x AS (SELECT 1) DELETE FROM invites WHERE id IN x": false,
		"SELECTED":              false,
		"PRAGMA wal_checkpoint": false,
		"-- only a comment":     false,
		"":                      false,
		"REPLACE INTO org_settings (id) VALUES ('default')":                           false,
		"-- name: CountUserReferences :one\nSELECT\n  (SELECT COUNT(*) FROM invites)": true,
	} {
		if got := isRead(q); got != want {
			t.Errorf("isRead(%q) = %v, want %v", q, got, want)
		}
	}
}
