package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb/schema"
)

// copyMigrations copies the real migrations into a temporary folder.
func copyMigrations(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob("../../../schema/[0-9]*.sql")
	if len(files) < 4 {
		t.Fatalf("migrations not found: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	return dir
}

func TestGenerateThenCheck(t *testing.T) {
	dir := copyMigrations(t)
	if err := generate(context.Background(), dir, dir); err != nil {
		t.Fatal(err)
	}
	if err := checkSum(context.Background(), dir, nil); err != nil {
		t.Fatalf("fresh sum: %v", err)
	}
	snap, _ := os.ReadFile(filepath.Join(dir, "schema.sql"))
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	for _, want := range []string{"CREATE TABLE users (\n  id TEXT PRIMARY KEY,", "CREATE INDEX idx_invites_email ON invites(email);", "CREATE TRIGGER users_role_insert"} {
		if !strings.Contains(string(snap), want) {
			t.Errorf("schema.sql lacks %q", want)
		}
	}
	if strings.Contains(string(snap), "CREATE TABLE schema_migrations") || strings.Contains(string(snap), "  \n") {
		t.Error("schema.sql holds the runner's table or unnormalized whitespace")
	}
	for _, want := range []string{"```mermaid\nerDiagram", `invites }o--|| users : "invited_by"`, "TEXT email UK", "TEXT id PK", "`0006_organization.sql`"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	// Generating again gives the same bytes.
	if err := generate(context.Background(), dir, dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "schema.sql")); string(again) != string(snap) {
		t.Error("schema.sql is not stable")
	}
}

func TestCheckSumNamesTheProblem(t *testing.T) {
	tests := []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"edited", func(dir string) {
			f := filepath.Join(dir, "0006_organization.sql")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, append(b, []byte("\n-- a harmless comment\n")...), 0o644)
		}, "0006_organization.sql has shipped\x00and was edited\x00git checkout -- \x00make resum"},
		{"deleted", func(dir string) { os.Remove(filepath.Join(dir, "0008_org_lookups.sql")) }, "0008_org_lookups.sql has shipped\x00and was deleted"},
		{"renamed", func(dir string) {
			os.Rename(filepath.Join(dir, "0008_org_lookups.sql"), filepath.Join(dir, "0008_lookups.sql"))
		}, "0008_lookups.sql is not in migrations.sum"},
		{"added", func(dir string) {
			os.WriteFile(filepath.Join(dir, "9999_new.sql"), []byte("CREATE TABLE t (x);"), 0o644)
		}, "9999_new.sql is not in migrations.sum yet: run make generate"},
		{"sum edited", func(dir string) {
			f := filepath.Join(dir, "migrations.sum")
			b, _ := os.ReadFile(f)
			os.WriteFile(f, []byte(strings.Replace(string(b), "0006_organization.sql 4", "0006_organization.sql 5", 1)), 0o644)
		}, "edited by hand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyMigrations(t)
			if err := generate(context.Background(), dir, dir); err != nil {
				t.Fatal(err)
			}
			tt.change(dir)
			err := checkSum(context.Background(), dir, nil)
			for _, want := range strings.Split(tt.want, "\x00") {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("checkSum = %v, want it to say %q", err, want)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE TABLE t (\n  a TEXT ,\n\tb  INT )":       "CREATE TABLE t (a TEXT, b INT)",
		"DEFAULT 'two  spaces\n kept'":                   "DEFAULT 'two  spaces\n kept'",
		`CREATE TABLE "my  table" ( x )`:                 `CREATE TABLE "my  table" (x)`,
		"SELECT RAISE(ABORT, 'a; b');\n  END":            "SELECT RAISE(ABORT, 'a; b'); END",
		"CHECK (x IN ( 0 , 1 ))":                         "CHECK (x IN (0, 1))",
		"UNIQUE(user_id,   service)":                     "UNIQUE(user_id, service)",
		"a ,b":                                           "a,b",
		"  leading and trailing  ":                       "leading and trailing",
		"CREATE INDEX i ON t(lower( email ))":            "CREATE INDEX i ON t(lower(email))",
		"x DEFAULT (datetime('now'))":                    "x DEFAULT (datetime('now'))",
		"CREATE TRIGGER x BEGIN SELECT 1; SELECT 2; END": "CREATE TRIGGER x BEGIN SELECT 1; SELECT 2; END",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
	got := formatTrigger("CREATE TRIGGER x BEFORE INSERT ON t WHEN NEW.a <> 'b; c' BEGIN SELECT 1; SELECT 2; END")
	want := "CREATE TRIGGER x BEFORE INSERT ON t\nWHEN NEW.a <> 'b; c'\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND"
	if got != want {
		t.Errorf("formatTrigger = %q", got)
	}
}

// A migration's description in README.md is its first sentence, and an
// abbreviation such as "e.g." does not end one.
func TestSummary(t *testing.T) {
	for comment, want := range map[string]string{
		"-- Add users.timezone, e.g. Europe/Paris. Why: the web client shows local times.": "Add users.timezone, e.g. Europe/Paris.",
		"-- Store the zone (i.e. the IANA name). Nothing else.":                            "Store the zone (i.e. the IANA name).",
		"-- One line\n-- continued here. Second sentence.":                                 "One line continued here.",
		"-- Ends with a period.": "Ends with a period.",
		"CREATE TABLE t (x);":    "add things",
	} {
		if got := summary(schema.Migration{Name: "add_things", SQL: comment}); got != want {
			t.Errorf("summary(%q) = %q, want %q", comment, got, want)
		}
	}
}

// -out writes the artifacts elsewhere and leaves the migrations folder as
// it was.
func TestGenerateOut(t *testing.T) {
	dir, out := copyMigrations(t), t.TempDir()
	before, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := generate(context.Background(), dir, out); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("generate -out wrote into the migrations folder: %d files, had %d", len(after), len(before))
	}
	for _, f := range []string{"schema.sql", "README.md", "migrations.sum"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written to -out: %v", f, err)
		}
	}
}

// A migration that fails when the runner applies it is named with the
// line and column of the failing token, and nothing is written.
func TestFailingMigrationNamesTheLine(t *testing.T) {
	dir, out := copyMigrations(t), t.TempDir()
	bad := "-- Test.\nCREATE TABLE t1 (x);\n\nUPDATE users\n  SET nope = 1;\nCREATE TABLE t2 (y);\n"
	if err := os.WriteFile(filepath.Join(dir, "9990_bad.sql"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	err := generate(context.Background(), dir, out)
	if err == nil || !strings.Contains(err.Error(), "/9990_bad.sql:5:7: no such column: nope") {
		t.Errorf("err = %v, want the file, line 5 column 7 (the failing token) and the cause", err)
	}
	if written, _ := os.ReadDir(out); len(written) != 0 {
		t.Errorf("wrote %d files after a failure", len(written))
	}
}
