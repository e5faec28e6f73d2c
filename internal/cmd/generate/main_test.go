package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func put(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// diff names a hand edit, a deleted file and an orphan, and changes
// nothing; apply then makes the tree match.
func TestDiffAndApply(t *testing.T) {
	t.Chdir(t.TempDir())
	put(t, "gen/db/models.go", "package db // edited by hand\n")
	put(t, "gen/db/users.sql.go", "package db\n")
	put(t, "gen/db/orphan.go", "package db\n")
	put(t, "gen/old/left.go", "package old\n")
	put(t, "schema/schema.sql", "CREATE TABLE a (x);\n")
	put(t, "schema/0001_a.sql", "CREATE TABLE a (x);\n") // a source, never touched
	out := output{
		"gen/db/models.go":    []byte("package db\n"),
		"gen/db/users.sql.go": []byte("package db\n"),
		"gen/ts/types.ts":     []byte("export type X = 'x';\n"),
		"schema/schema.sql":   []byte("CREATE TABLE a (x);\n"),
	}
	d, err := diff(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.changed, []string{"gen/db/models.go"}) || !slices.Equal(d.missing, []string{"gen/ts/types.ts"}) ||
		!slices.Equal(d.orphans, []string{"gen/db/orphan.go", "gen/old/left.go"}) {
		t.Fatalf("diff = %+v", d)
	}
	if read(t, "gen/db/models.go") != "package db // edited by hand\n" || read(t, "gen/db/orphan.go") != "package db\n" {
		t.Fatal("diff changed the tree")
	}
	if line := firstDiffLine("gen/db/models.go", out["gen/db/models.go"]); line != 1 {
		t.Errorf("first difference at line %d, want 1", line)
	}

	if err := apply(out, d); err != nil {
		t.Fatal(err)
	}
	for p, want := range out {
		if got := read(t, p); got != string(want) {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, gone := range []string{"gen/db/orphan.go", "gen/old"} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", gone, err)
		}
	}
	if read(t, "schema/0001_a.sql") != "CREATE TABLE a (x);\n" {
		t.Error("a source file was touched")
	}
	if d, err := diff(out); err != nil || !d.empty() {
		t.Errorf("after apply: %+v, %v", d, err)
	}
}

// A character outside ASCII in a query file is named at its own line and
// column, before sqlc garbles the queries after it; ASCII files pass.
func TestASCIIQueries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "queries")
	put(t, filepath.Join(dir, "a.sql"), "-- name: A :one\nSELECT 1;\n")
	if err := asciiQueries(dir); err != nil {
		t.Fatalf("ASCII queries refused: %v", err)
	}
	put(t, filepath.Join(dir, "b.sql"), "-- name: B :one\n-- a note… here\nSELECT 2;\n")
	err := asciiQueries(dir)
	if err == nil {
		t.Fatal("an ellipsis in a comment passed")
	}
	if want := `queries/b.sql:2:10: '…' is not ASCII`; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want it to start with %q", err, want)
	}
}

// sqlc names a misspelt column of UPDATE … SET at the statement's start;
// make generate names the token, as schemadoc does for a migration.
func TestTokenPositions(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "queries"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "-- name: A :one\nSELECT 1;\n\n-- name: SetTZ :execrows\nUPDATE users\n   SET tz = ? WHERE id = ?;\n"
	if err := os.WriteFile(filepath.Join(root, "queries", "users.sql"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &run{root: root}
	got := g.tokenPositions("# package db\n  queries/users.sql:5:1: column \"tz\" does not exist\nqueries/users.sql:2:1: something else")
	want := "# package db\n  queries/users.sql:6:8: column \"tz\" does not exist\nqueries/users.sql:2:1: something else"
	if got != want {
		t.Errorf("tokenPositions:\n got %q\nwant %q", got, want)
	}
}
