package migratelint_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/migratelint"
)

var ctx = context.Background()

// lint lints the migrations of dir. A fixture's shipped.sum stands for
// the migrations.sum of the branch it merges into (VERSION_ORDER).
func lint(t *testing.T, dir, allow string) migratelint.Result {
	t.Helper()
	o := migratelint.Options{Dir: dir, AllowFile: allow}
	if b, err := os.ReadFile(filepath.Join(dir, "shipped.sum")); err == nil {
		s, err := migratelint.ParseSum("shipped.sum", b)
		if err != nil {
			t.Fatal(err)
		}
		o.Shipped = append(o.Shipped, s)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	res, err := migratelint.Lint(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func codes(fs []migratelint.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// TestFixtures lints testdata/CODE/fail* and testdata/CODE/pass: every
// fail fixture has an unaccepted finding of its code, every pass fixture
// none at all. Every rule has both.
func TestFixtures(t *testing.T) {
	rules, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range rules {
		code := rule.Name()
		cases, err := os.ReadDir(filepath.Join("testdata", code))
		if err != nil {
			t.Fatal(err)
		}
		var fail, pass bool
		for _, c := range cases {
			dir := filepath.Join("testdata", code, c.Name())
			t.Run(code+"/"+c.Name(), func(t *testing.T) {
				t.Parallel()
				res := lint(t, dir, "")
				failed := res.Failed()
				for _, f := range res.Findings {
					t.Log(f, f.Accepted)
				}
				if strings.HasPrefix(c.Name(), "fail") {
					if !slices.Contains(codes(failed), code) {
						t.Errorf("want a %s finding, got %v", code, failed)
					}
					for _, f := range failed {
						if f.Code == code && (f.Line < 1 || !strings.HasPrefix(f.String(), dir+string(filepath.Separator))) {
							t.Errorf("finding %q: want file:line of the migration", f)
						}
					}
				} else if len(failed) > 0 {
					t.Errorf("want no finding, got %v", failed)
				}
			})
			fail = fail || strings.HasPrefix(c.Name(), "fail")
			pass = pass || c.Name() == "pass"
		}
		if !pass && code != migratelint.Fails && code != migratelint.Allow {
			t.Errorf("rule %s has no pass fixture", code)
		}
		if !fail {
			t.Errorf("rule %s has no fail fixture", code)
		}
	}
	for _, code := range []string{migratelint.DropTable, migratelint.DropColumn, migratelint.RenameTable, migratelint.RenameColumn,
		migratelint.NotNull, migratelint.Unique, migratelint.RebuildLost, migratelint.RowsLost, migratelint.DropCascade, migratelint.D1,
		migratelint.TypeChange, migratelint.ModifyNotNull, migratelint.DropNotNull, migratelint.PKChange, migratelint.PositionalCopy,
		migratelint.FKPragma, migratelint.DataChange, migratelint.VersionOrder, migratelint.ShadowedUnique, migratelint.ValuesChanged} {
		if !slices.ContainsFunc(rules, func(e os.DirEntry) bool { return e.Name() == code }) {
			t.Errorf("rule %s has no fixtures in testdata/%s", code, code)
		}
	}
}

// TestLines checks where findings point: the statement's first line, or
// for a column's definition the line that defines it; and that one
// problem is reported once (a NOT NULL copy that fails on rows is the
// MODIFY_NOT_NULL already reported, not a NOT_NULL too).
func TestLines(t *testing.T) {
	for _, c := range []struct {
		dir, code string
		want      []string
	}{
		{"D1/fail", migratelint.D1, []string{"0002_tx.sql:1", "0002_tx.sql:3"}},
		{"FK_PRAGMA/fail", migratelint.FKPragma, []string{"0002_rebuild.sql:1", "0002_rebuild.sql:13"}},
		{"MODIFY_NOT_NULL/fail", migratelint.ModifyNotNull, []string{"0002_not_null.sql:6"}},
		{"MODIFY_NOT_NULL/fail", migratelint.NotNull, nil},
		{"NOT_NULL/fail-partial-backfill", migratelint.NotNull, []string{"0002_not_null.sql:9"}},
		{"NOT_NULL/fail-partial-backfill", migratelint.ModifyNotNull, nil},
		{"TYPE_CHANGE/fail", migratelint.TypeChange, []string{"0002_type.sql:6"}},
		{"DROP_NOT_NULL/fail", migratelint.DropNotNull, []string{"0002_nullable.sql:4"}},
		{"PK_CHANGE/fail", migratelint.PKChange, []string{"0002_key.sql:2"}},
		{"VALUES_CHANGED/fail", migratelint.ValuesChanged, []string{"0002_rebuild.sql:8", "0002_rebuild.sql:8"}},
		{"POSITIONAL_COPY/fail", migratelint.PositionalCopy, []string{"0002_rebuild.sql:11"}},
		{"SHADOWED_UNIQUE/fail", migratelint.ShadowedUnique, []string{"0002_scope_unique.sql:4"}},
		{"SHADOWED_UNIQUE/fail", migratelint.Unique, nil}, // UNIQUE(user_id, service) keeps the rows unique on the three
		{"DATA_CHANGE/fail", migratelint.DataChange, []string{"0002_trim.sql:1"}},
		{"VERSION_ORDER/fail", migratelint.VersionOrder, []string{"0002_tags.sql:1"}},
	} {
		t.Run(c.dir+"/"+c.code, func(t *testing.T) {
			t.Parallel()
			res := lint(t, filepath.Join("testdata", c.dir), "")
			var got []string
			for _, f := range res.Failed() {
				if f.Code == c.code {
					got = append(got, fmt.Sprintf("%s:%d", filepath.Base(f.Path), f.Line))
					if want := fmt.Sprintf("%s:%d %s ", f.Path, f.Line, f.Code); !strings.HasPrefix(f.String(), want) {
						t.Errorf("%q: want it to start with %q", f, want)
					}
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s findings at %v, want %v", c.code, got, c.want)
			}
		})
	}
}

// copySchema copies the shipped migrations (and the allow file) into a
// temporary folder, adds the migrations extra, and returns the folder.
func copySchema(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	names, err := filepath.Glob("../../schema/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".sql") && !strings.HasSuffix(n, ".allow") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, sql := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestShipped lints the shipped migrations: no finding but the ones the
// allow file accepts, each with its reason.
func TestShipped(t *testing.T) {
	t.Parallel()
	res, err := migratelint.Lint(ctx, migratelint.Options{Dir: "../../schema", AllowFile: "../../schema/migratelint.allow", Shipped: []migratelint.Shipped{summed(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) > 0 {
		t.Fatalf("shipped migrations: %v", f)
	}
	for _, f := range res.Findings {
		if f.Accepted && f.Reason == "" {
			t.Errorf("%s accepted without a reason", f)
		}
	}
	// Without the allow file the accepted findings fail.
	if f := lint(t, "../../schema", "").Failed(); len(f) == 0 {
		t.Error("without the allow file the shipped migrations pass; the allow file accepts nothing")
	}
}

// TestNewMigration runs the cases of the issue on a new migration after
// the shipped ones (and after any a developer is adding: the names it adds
// are its own, so a real users.timezone column does not collide).
func TestNewMigration(t *testing.T) {
	for sql, want := range map[string]string{
		"DROP TABLE invites;\n": migratelint.DropTable,
		"CREATE UNIQUE INDEX idx_lint_probe_users_name ON users(name);\n":                 migratelint.Unique,
		"BEGIN;\nCREATE TABLE lint_probe (y TEXT);\nCOMMIT;\n":                            migratelint.D1,
		"ALTER TABLE users ADD COLUMN lint_probe_locale TEXT NOT NULL DEFAULT 'en';\n":    "",
		"ALTER TABLE users ADD COLUMN lint_probe_timezone TEXT;\n":                        "",
		"ALTER TABLE users RENAME COLUMN github_username TO github_login;\n":              migratelint.RenameColumn,
		"-- lint:allow DROP_TABLE invites move to another service\nDROP TABLE invites;\n": "",
		"UPDATE users SET role = 'member';\n":                                             migratelint.DataChange,
		"PRAGMA foreign_keys = OFF;\n":                                                    migratelint.FKPragma,
		// The original agent-ops 0004 on this schema.
		"CREATE UNIQUE INDEX idx_lint_probe_user_service ON integrations(user_id, service, scope);\n": migratelint.ShadowedUnique,
		// The original agent-ops 0005 on this schema: scope is the last
		// column of integrations here, the new table has it earlier.
		`CREATE TABLE integrations_new (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'pending',
  error_message TEXT,
  last_synced_at TEXT,
  scope TEXT NOT NULL DEFAULT 'user',
  created_at TEXT DEFAULT (datetime('now')),
  updated_at TEXT DEFAULT (datetime('now'))
);
INSERT INTO integrations_new SELECT * FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
`: migratelint.PositionalCopy,
	} {
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			dir := copySchema(t, map[string]string{"9999_new.sql": sql})
			failed := lint(t, dir, filepath.Join(dir, "migratelint.allow")).Failed()
			if want == "" {
				if len(failed) > 0 {
					t.Errorf("%q: want no finding, got %v", sql, failed)
				}
				return
			}
			if !slices.Contains(codes(failed), want) {
				t.Errorf("%q: want %s, got %v", sql, want, failed)
			}
			for _, f := range failed {
				if filepath.Base(f.Path) != "9999_new.sql" {
					t.Errorf("finding outside the new migration: %s", f)
				}
			}
		})
	}
}

// TestAllowFileChecksum: an allowance for a shipped migration holds only
// for the file as it was summed; an edit voids it.
func TestAllowFileChecksum(t *testing.T) {
	t.Parallel()
	dir := copySchema(t, nil)
	f := filepath.Join(dir, "0007_value_checks.sql")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(b, "\n-- an edit\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := lint(t, dir, filepath.Join(dir, "migratelint.allow")).Failed()
	if !slices.Contains(codes(failed), migratelint.Allow) || !slices.Contains(codes(failed), migratelint.RowsLost) {
		t.Errorf("edited 0007: want LINT_ALLOW and the ROWS_LOST it no longer accepts, got %v", failed)
	}
}

// summed is schema/migrations.sum as the shipped set.
func summed(t *testing.T) migratelint.Shipped {
	t.Helper()
	b, err := os.ReadFile("../../schema/migrations.sum")
	if err != nil {
		t.Fatal(err)
	}
	s, err := migratelint.ParseSum("schema/migrations.sum", b)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) == 0 {
		t.Fatal("schema/migrations.sum lists no migration")
	}
	return s
}

// TestVersionOrderShipped: a new migration numbered between shipped ones
// is a VERSION_ORDER finding, one after all of them is not.
func TestVersionOrderShipped(t *testing.T) {
	for file, want := range map[string]bool{"0005_lint_probe.sql": true, "9999_lint_probe.sql": false} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			dir := copySchema(t, map[string]string{file: "CREATE TABLE lint_probe (x TEXT);\n"})
			res, err := migratelint.Lint(ctx, migratelint.Options{Dir: dir, AllowFile: filepath.Join(dir, "migratelint.allow"), Shipped: []migratelint.Shipped{summed(t)}})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(res.Failed(), func(f migratelint.Finding) bool {
				return f.Code == migratelint.VersionOrder && filepath.Base(f.Path) == file && f.Line == 1
			})
			if got != want || len(res.Failed()) != map[bool]int{true: 1, false: 0}[want] {
				t.Errorf("%s: want VERSION_ORDER %t, got %v", file, want, res.Failed())
			}
		})
	}
}

// TestParseSum: a malformed line is an error naming it.
func TestParseSum(t *testing.T) {
	if _, err := migratelint.ParseSum("x.sum", []byte("# c\n0001_a.sql abc\n")); err == nil || !strings.Contains(err.Error(), "x.sum:2") {
		t.Errorf("want an error at x.sum:2, got %v", err)
	}
}

// TestREADMETable: docs/lint.md's table of findings has a row for every
// rule (every folder of testdata).
func TestREADMETable(t *testing.T) {
	b, err := os.ReadFile("../../docs/lint.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "# Migration lint, upgrade tests and D1 parity")
	if start < 0 {
		t.Fatal(`docs/lint.md has no section "Migration lint, upgrade tests and D1 parity"`)
	}
	section := readme[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var rows []string
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "| `") {
			rows = append(rows, strings.SplitN(l, "|", 3)[1])
		}
	}
	rules, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if !slices.ContainsFunc(rows, func(row string) bool { return strings.Contains(row, "`"+r.Name()+"`") }) {
			t.Errorf("docs/lint.md's lint table has no row for %s", r.Name())
		}
	}
}
