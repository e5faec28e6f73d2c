package shipped

import (
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

// repo is a real git repository under t.TempDir() with a schema/ folder.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	if err := os.Mkdir(filepath.Join(r.dir, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *repo) write(file, content string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "schema", file), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// sum writes schema/migrations.sum for the migrations in the folder, as
// make generate does.
func (r *repo) sum() {
	r.t.Helper()
	files, err := filepath.Glob(filepath.Join(r.dir, "schema", "[0-9]*.sql"))
	if err != nil {
		r.t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		c, err := os.ReadFile(f)
		if err != nil {
			r.t.Fatal(err)
		}
		s := sha256.Sum256(c)
		fmt.Fprintf(&b, "%s %s\n", filepath.Base(f), hex.EncodeToString(s[:]))
	}
	total := sha256.Sum256([]byte(b.String()))
	r.write("migrations.sum", b.String()+"total "+hex.EncodeToString(total[:])+"\n")
}

func (r *repo) commit(msg string) {
	r.t.Helper()
	r.sum()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

// verify runs Verify from the repository root, as make generate does.
func (r *repo) verify(resum bool, refs ...string) ([]string, error) {
	r.t.Helper()
	r.t.Chdir(r.dir)
	return Verify(context.Background(), "schema", refs, resum)
}

func (r *repo) wantOK(resum bool, refs ...string) []string {
	r.t.Helper()
	accepted, err := r.verify(resum, refs...)
	if err != nil {
		r.t.Fatalf("Verify: %v", err)
	}
	return accepted
}

func (r *repo) wantProblem(wants ...string) {
	r.t.Helper()
	_, err := r.verify(false)
	if err == nil {
		r.t.Fatalf("Verify passed; want %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			r.t.Errorf("Verify = %v\nwant it to say %q", err, w)
		}
	}
}

const (
	first  = "-- The first table.\nCREATE TABLE t (id TEXT PRIMARY KEY);\n"
	theirs = "CREATE TABLE a (x TEXT);\n"
	mine   = "CREATE TABLE b (y TEXT);\n"
)

// Two branches both add migration 0002. The one that merges first ships
// it; the other may edit, renumber or delete its own freely, and is told
// which to renumber after merging main; no shipped migration may change.
func TestRenumberingAfterACollision(t *testing.T) {
	r := newRepo(t)
	r.write("0001_first.sql", first)
	r.commit("first")
	r.git("checkout", "-q", "-b", "feature")
	r.write("0002_mine.sql", mine)
	r.commit("mine")
	r.git("checkout", "-q", "main")
	r.write("0002_theirs.sql", theirs)
	r.commit("theirs")
	r.git("checkout", "-q", "feature")

	// Before merging main: 0002_theirs is main's, not this branch's to
	// have; 0002_mine is this branch's own: edit it, then delete it.
	r.wantOK(false)
	r.write("0002_mine.sql", mine+"CREATE INDEX b_y ON b(y);\n")
	r.wantOK(false)
	if err := os.Remove(filepath.Join(r.dir, "schema", "0002_mine.sql")); err != nil {
		t.Fatal(err)
	}
	r.wantOK(false)
	r.git("checkout", "-q", "--", "schema")

	// Merge main: the numbers collide, and the message says which to move.
	if out, err := exec.Command("git", "-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@t", "merge", "-q", "main").CombinedOutput(); err == nil {
		t.Fatalf("the merge of two migrations.sum files did not conflict: %s", out)
	}
	r.sum() // the resolution: make generate would rewrite it
	r.git("add", "-A")
	r.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--no-edit")
	r.wantProblem("0002_mine.sql and 0002_theirs.sql share version 2", "0002_theirs.sql has shipped", "git mv schema/0002_mine.sql schema/0003_mine.sql")

	// Renumbered as told: fine.
	r.git("mv", "schema/0002_mine.sql", "schema/0003_mine.sql")
	r.wantOK(false)
	r.commit("renumber mine")

	// The shipped one may not be edited, deleted or renamed.
	r.write("0002_theirs.sql", theirs+"CREATE INDEX a_x ON a(x);\n")
	r.wantProblem("schema/0002_theirs.sql has shipped (main's schema/migrations.sum at", "and was edited", "git checkout -- schema/0002_theirs.sql", "make new-migration")
	r.git("checkout", "-q", "--", "schema/0002_theirs.sql")
	r.wantOK(false)
	r.git("rm", "-q", "schema/0002_theirs.sql")
	r.wantProblem("schema/0002_theirs.sql has shipped", "and was deleted", "git checkout")
	r.git("reset", "-q", "--hard")
	r.git("mv", "schema/0002_theirs.sql", "schema/0004_theirs.sql")
	r.wantProblem("schema/0002_theirs.sql has shipped", "was renamed to 0004_theirs.sql")
	r.git("reset", "-q", "--hard")
	r.wantOK(false)
}

// A comment-only edit of a shipped migration is accepted only through
// make resum (resum), which checks that nothing but comments and layout
// changed, and afterwards while the branch's migrations.sum records it.
func TestCommentOnlyEditNeedsResum(t *testing.T) {
	r := newRepo(t)
	r.write("0001_first.sql", first)
	r.commit("first")
	r.git("checkout", "-q", "-b", "feature")

	edited := "-- The first table, with a better comment.\nCREATE TABLE t (\n  id TEXT PRIMARY KEY\n); /* layout */\n"
	r.write("0001_first.sql", edited)
	r.wantProblem("schema/0001_first.sql has shipped", "and was edited", "make resum")
	if accepted := r.wantOK(true); !slices.Equal(accepted, []string{"schema/0001_first.sql"}) {
		t.Errorf("resum accepted %v, want the edited file", accepted)
	}
	r.sum() // what make resum then writes
	if accepted := r.wantOK(false); len(accepted) != 1 {
		t.Errorf("after resum: accepted %v, want the recorded edit", accepted)
	}

	// A change of SQL is refused by resum, and even when the branch's
	// migrations.sum records it (summed by hand).
	r.write("0001_first.sql", strings.Replace(edited, "TEXT", "INTEGER", 1))
	if _, err := r.verify(true); err == nil || !strings.Contains(err.Error(), "not only its comments") {
		t.Errorf("resum of a changed statement = %v, want it refused", err)
	}
	r.sum()
	r.wantProblem("schema/0001_first.sql has shipped", "and was edited")
}

// SHIPPED names the branch to judge by; a revision the clone lacks is an
// error, and without main HEAD's migrations.sum stands in.
func TestBaseChoice(t *testing.T) {
	r := newRepo(t)
	r.write("0001_first.sql", first)
	r.commit("first")
	r.git("branch", "-m", "main", "trunk")
	r.write("0002_new.sql", mine)
	r.wantOK(false) // HEAD stands in: 0002 is not committed, so not shipped
	r.write("0001_first.sql", theirs)
	r.wantProblem("0001_first.sql has shipped (HEAD (no origin/main or main in this clone)")
	r.git("checkout", "-q", "--", "schema/0001_first.sql")

	t.Setenv(EnvRefs, "release")
	if _, err := r.verify(false); err == nil || !strings.Contains(err.Error(), "release: no such revision") {
		t.Errorf("SHIPPED=release in a clone without it = %v", err)
	}
	t.Setenv(EnvRefs, "trunk")
	r.wantOK(false)
	r.write("0001_first.sql", theirs)
	r.wantProblem("trunk's schema/migrations.sum at")
}
