package migratelint_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/migratelint"
)

var ctx = context.Background()

func lint(t *testing.T, dir, allow string) migratelint.Result {
	t.Helper()
	res, err := migratelint.Lint(ctx, migratelint.Options{Dir: dir, AllowFile: allow})
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
		migratelint.NotNull, migratelint.Unique, migratelint.RebuildLost, migratelint.RowsLost, migratelint.DropCascade, migratelint.D1} {
		if !slices.ContainsFunc(rules, func(e os.DirEntry) bool { return e.Name() == code }) {
			t.Errorf("rule %s has no fixtures in testdata/%s", code, code)
		}
	}
}

// TestLines checks the line of findings: the statement's first line.
func TestLines(t *testing.T) {
	res := lint(t, "testdata/D1/fail", "")
	var got []string
	for _, f := range res.Failed() {
		if f.Code == migratelint.D1 {
			got = append(got, filepath.Base(f.Path)+":"+strings.Fields(f.String())[0][len(f.Path)+1:])
		}
	}
	if want := []string{"0002_tx.sql:1", "0002_tx.sql:3"}; !slices.Equal(got, want) {
		t.Errorf("D1 findings at %v, want %v", got, want)
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
	res := lint(t, "../../schema", "../../schema/migratelint.allow")
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
