package migratelint

import "testing"

func TestFailingToken(t *testing.T) {
	src := "-- header\n\nCREATE TABLE t1 (id TEXT);\nCREATE INDEX t1_x\n  ON t1(nope);\nCREATE TABLE t2 (a TEXT); CREATE TABLE t1 (b);\nSELEC 1;\n"
	for _, tt := range []struct {
		endLine   int
		msg       string
		line, col int
	}{
		{5, "no such column: nope", 5, 9},
		{6, "table t1 already exists", 6, 40},
		{7, `near "SELEC": syntax error`, 7, 1},
		{3, "some error naming nothing", 3, 1},
		{5, "no such column: other", 4, 1}, // a name the statement lacks: its start
	} {
		if l, c := FailingToken(src, tt.endLine, tt.msg); l != tt.line || c != tt.col {
			t.Errorf("FailingToken(line %d, %q) = %d:%d, want %d:%d", tt.endLine, tt.msg, l, c, tt.line, tt.col)
		}
	}
}

func TestTokenInStatement(t *testing.T) {
	src := "-- name: A :one\nSELECT 1;\n\n-- name: SetTZ :execrows\nUPDATE users\nSET tz = ? WHERE id = ?;\n-- name: B :one\nSELECT tz FROM users;\n"
	for _, tt := range []struct {
		line, col int
		msg       string
		wl, wc    int
	}{
		{5, 1, `column "tz" does not exist`, 6, 5},
		{6, 5, `column "tz" does not exist`, 6, 5},
		{5, 1, `column "zz" does not exist`, 5, 1}, // not in the statement: as it was
		{5, 1, "something else", 5, 1},
	} {
		if l, c := TokenInStatement(src, tt.line, tt.col, tt.msg); l != tt.wl || c != tt.wc {
			t.Errorf("TokenInStatement(%d:%d, %q) = %d:%d, want %d:%d", tt.line, tt.col, tt.msg, l, c, tt.wl, tt.wc)
		}
	}
}
