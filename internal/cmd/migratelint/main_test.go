package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// base is the first migration of every repository here.
const base = "CREATE TABLE items (id TEXT PRIMARY KEY, label TEXT);\n"

// repo is a git repository in a temporary folder, with the migrations in
// schema/.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: VERSION_ORDER reads the shipped migrations with git")
	}
	// Only this test's settings: no user or system configuration.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_AUTHOR_NAME", "t")
	t.Setenv("GIT_AUTHOR_EMAIL", "t@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "t")
	t.Setenv("GIT_COMMITTER_EMAIL", "t@example.com")
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	if err := os.Mkdir(filepath.Join(r.dir, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", r.dir}, args...)...).CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// add writes migrations and sums every migration of schema/, as make
// generate does, then commits.
func (r *repo) add(files map[string]string) {
	r.t.Helper()
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(r.dir, "schema", name), []byte(sql), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.sum()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "migrations")
}

func (r *repo) sum() {
	r.t.Helper()
	names, err := filepath.Glob(filepath.Join(r.dir, "schema", "*.sql"))
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("# test sum\n")
	for _, n := range names {
		c, err := os.ReadFile(n)
		if err != nil {
			r.t.Fatal(err)
		}
		h := sha256.Sum256(c)
		fmt.Fprintf(&b, "%s %s\n", filepath.Base(n), hex.EncodeToString(h[:]))
	}
	if err := os.WriteFile(filepath.Join(r.dir, "schema", "migrations.sum"), []byte(b.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func lint(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestVersionOrder is the merge collision: a branch takes 0003 while main
// ships another 0003. The branch's own migrations.sum lists its file (make
// generate summed it), so only the branch it merges into can tell, in a
// local clone (main) and in a fresh CI clone (origin/main) alike.
func TestVersionOrder(t *testing.T) {
	r := newRepo(t)
	r.add(map[string]string{"0001_base.sql": base, "0002_weight.sql": "ALTER TABLE items ADD COLUMN weight INTEGER;\n"})
	r.git("checkout", "-q", "-b", "feature")
	r.git("checkout", "-q", "main")
	r.add(map[string]string{"0003_tags.sql": "CREATE TABLE tags (name TEXT);\n"})
	r.git("checkout", "-q", "feature")
	r.add(map[string]string{"0003_notes.sql": "ALTER TABLE items ADD COLUMN note TEXT;\n"})
	schema := filepath.Join(r.dir, "schema")

	code, out, errs := lint(t, "-dir", schema)
	want := filepath.Join(schema, "0003_notes.sql") + ":1 VERSION_ORDER 0003_notes.sql is numbered 3, at or below 0003_tags.sql, which main's schema/migrations.sum already ships"
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "0004_notes.sql") {
		t.Errorf("branch behind main: exit %d, stdout %q, stderr %q; want 1 and %q with the renumbering", code, out, errs, want)
	}

	// A fresh clone of the branch has origin/main and no main.
	clone := filepath.Join(t.TempDir(), "clone")
	r.git("clone", "-q", "--branch", "feature", r.dir, clone)
	code, out, errs = lint(t, "-dir", filepath.Join(clone, "schema"))
	if code != 1 || !strings.Contains(out, "VERSION_ORDER") || !strings.Contains(out, "origin/main's schema/migrations.sum") {
		t.Errorf("fresh clone: exit %d, stdout %q, stderr %q; want VERSION_ORDER against origin/main", code, out, errs)
	}

	// Renumbered above main's, it passes, and says what it was judged by.
	r.git("mv", "schema/0003_notes.sql", "schema/0004_notes.sql")
	r.add(nil)
	code, out, errs = lint(t, "-dir", schema)
	if code != 0 || !strings.Contains(out, "numbering checked against main's schema/migrations.sum") {
		t.Errorf("renumbered: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	code, _, errs = lint(t, "-dir", schema, "-base", "release")
	if code != 2 || !strings.Contains(errs, "-base release: no such revision in this clone") {
		t.Errorf("-base release: exit %d, stderr %q; want 2 naming the revision", code, errs)
	}
	// A revision from before migrations.sum existed ships nothing.
	tree := r.git("hash-object", "-t", "tree", "-w", os.DevNull)
	r.git("branch", "empty", r.git("commit-tree", tree, "-m", "empty"))
	if code, out, errs = lint(t, "-dir", schema, "-base", "empty"); code != 0 {
		t.Errorf("-base empty: exit %d, stdout %q, stderr %q; want 0", code, out, errs)
	}
}

// TestVersionOrderWithoutGit: outside a git clone the folder's own
// migrations.sum stands in for the shipped ones, and the success line
// says so.
func TestVersionOrderWithoutGit(t *testing.T) {
	r := &repo{t: t, dir: t.TempDir()}
	schema := filepath.Join(r.dir, "schema")
	if err := os.Mkdir(schema, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{"0001_base.sql": base, "0003_tags.sql": "CREATE TABLE tags (name TEXT);\n"} {
		if err := os.WriteFile(filepath.Join(schema, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.sum()
	code, out, errs := lint(t, "-dir", schema)
	if code != 0 || !strings.Contains(out, "numbering checked against "+filepath.Join(schema, "migrations.sum")+" only (not a git clone") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if err := os.WriteFile(filepath.Join(schema, "0002_weight.sql"), []byte("ALTER TABLE items ADD COLUMN weight INTEGER;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs = lint(t, "-dir", schema); code != 1 || !strings.Contains(out, "0002_weight.sql:1 VERSION_ORDER") {
		t.Errorf("a new 0002 below the summed 0003: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestUsage: mistakes in the command line say what to do.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"schema"}, `unexpected argument "schema": the folder is given with -dir`},
		{[]string{"-dir", "no/such/folder"}, "-dir names the migrations folder"},
		{[]string{"-bse", "main"}, "flag provided but not defined: -bse"},
	} {
		if code, _, errs := lint(t, c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	if code, _, errs := lint(t, "-h"); code != 0 || !strings.Contains(errs, "-base value") {
		t.Errorf("-h: exit %d, stderr %q; want 0 and the flags", code, errs)
	}
}
