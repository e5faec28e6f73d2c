// Package walkthrough holds the test that runs the README's Quickstart and
// its "Editing the schema" section as written, in a fresh clone: make
// test-walkthrough.
package walkthrough

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/readme"
)

// clone makes a fresh clone of the repository at root with the working
// tree's uncommitted changes committed on top, so that what is tested is
// what is on disk (in CI, a fresh clone, they are the same).
func clone(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "orgdb")
	run(t, root, "git", "clone", "-q", "--no-hardlinks", root, dir)
	out := run(t, root, "git", "status", "--porcelain", "--untracked-files=all", "--no-renames")
	changed := false
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if len(l) < 4 {
			continue
		}
		changed = true
		p := l[3:]
		src, dst := filepath.Join(root, p), filepath.Join(dir, p)
		b, err := os.ReadFile(src)
		if errorsIsNotExist(err) {
			os.Remove(dst)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	if changed {
		run(t, dir, "git", "add", "-A")
		run(t, dir, "git", "commit", "-q", "-m", "walkthrough: the working tree's uncommitted changes")
		t.Log("the clone carries the working tree's uncommitted changes as one commit")
	}
	return dir
}

func errorsIsNotExist(err error) bool { return err != nil && os.IsNotExist(err) }

var gitEnv = []string{
	"GIT_AUTHOR_NAME=walkthrough", "GIT_AUTHOR_EMAIL=walkthrough@orgdb.test",
	"GIT_COMMITTER_NAME=walkthrough", "GIT_COMMITTER_EMAIL=walkthrough@orgdb.test",
	// git commit without -m opens the editor: this one writes the message.
	"GIT_EDITOR=sed -i '1i walkthrough: users.timezone and SetUserTimezone'",
}

// developerEnv is this process's environment as a developer's shell in a
// new clone has it: without CI (CI=true makes the LiteFS and Litestream
// tests fail rather than skip, and the clone has built neither; CI runs
// them in their own steps) and without the variables naming those
// binaries.
func developerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "CI" && name != "ORGDB_LITEFS" && name != "ORGDB_LITESTREAM" {
			env = append(env, kv)
		}
	}
	return env
}

// run runs a command in dir and returns its output; it must succeed.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, err := sh(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return out
}

func sh(dir string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(developerEnv(), gitEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// bash runs one command line of the README as written.
func bash(dir, line string) (string, error) {
	return sh(dir, "bash", "-euo", "pipefail", "-c", line)
}

// tree hashes every file of the clone but .git and the tools' caches: a
// failed step must leave it as it was.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (rel == ".git" || rel == "bin" || strings.HasSuffix(rel, "node_modules")) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(s[:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, step string, before, after map[string]string) {
	t.Helper()
	for p, h := range after {
		if before[p] != h {
			t.Errorf("%s changed %s: a failing step must leave the tree as it was", step, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s removed %s: a failing step must leave the tree as it was", step, p)
		}
	}
}

// testCommand is what the walkthrough runs for the README's make test:
// the packages whose tests read the schema (models, JSON, queries, CLI
// tables, upgrades, TypeScript), without the race detector, unless
// WALKTHROUGH_TEST says otherwise (WALKTHROUGH_TEST="make test" runs it
// as written, several minutes more).
func testCommand() string {
	if c := os.Getenv("WALKTHROUGH_TEST"); c != "" {
		return c
	}
	return "go test -count=1 . ./store ./schema ./internal/tsgen ./cmd/orgdb ./internal/cmd/..."
}

var backticked = regexp.MustCompile("`([^`]+)`")

// TestREADMEWalkthrough runs the README's Quickstart (make db-migrate, make
// test) and then its "Editing the schema" section as written in a fresh
// clone of this repository: make new-migration, the
// SQL into the new migration, the query into the file the README names,
// make generate, make test (failing as the README says, then passing
// with the case it shows), make check, the README's commit command, then
// make drift on that commit with nothing left uncommitted. Then the
// documented mistakes: each fails with the message docs/schema.md's table
// gives and leaves the tree as it was. Last, a new table and column with
// no other edit break no test. make test-walkthrough runs it
// (.ci/run too); otherwise it is skipped.
func TestREADMEWalkthrough(t *testing.T) {
	if os.Getenv("ORGDB_WALKTHROUGH") != "1" {
		t.Skip("runs the README's schema walkthrough in a fresh clone (minutes): make test-walkthrough")
	}
	for _, tool := range []string{"git", "make", "bash", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	quickstart, err := readme.ShellBlock("../../README.md", "<!-- TestREADMEWalkthrough runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readme.Section("../../README.md", "Editing the schema")
	if err != nil {
		t.Fatal(err)
	}
	// The messages the walkthrough's mistakes print are in this table.
	messages, err := os.ReadFile(filepath.Join(root, "docs", "schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := clone(t, root)
	start := time.Now()
	step := func(format string, args ...any) {
		t.Logf("%6.1fs %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	// The Quickstart's two commands, on the fresh clone, first.
	blocks = append([]readme.Block{{Lang: "sh", Code: quickstart}}, blocks...)

	var migration string // the file make new-migration created
	sqlBlocks := 0
	for _, b := range blocks {
		switch b.Lang {
		case "sh":
			for _, line := range strings.Split(b.Code, "\n") {
				cmd, comment, _ := strings.Cut(line, "#")
				cmd, comment = strings.TrimSpace(cmd), strings.TrimSpace(comment)
				if cmd == "" {
					continue
				}
				wantFail := strings.HasPrefix(comment, "fails")
				if cmd == "make test" {
					cmd = testCommand()
				}
				step("$ %s", cmd)
				out, err := bash(dir, cmd)
				switch {
				case wantFail && err == nil:
					t.Fatalf("%s: passed; the README says %q\n%s", cmd, comment, out)
				case wantFail:
					// "fails naming X": the output names X.
					if m := regexp.MustCompile(`naming (\w+)`).FindStringSubmatch(comment); m != nil && !strings.Contains(out, m[1]) {
						t.Fatalf("%s failed without naming %s, as the README says it does:\n%s", cmd, m[1], out)
					}
				case err != nil:
					t.Fatalf("%s: %v (the README's walkthrough, as written, fails here)\n%s", cmd, err, out)
				}
				if strings.HasPrefix(cmd, "make new-migration") {
					m := regexp.MustCompile(`created (schema/\S+\.sql)`).FindStringSubmatch(out)
					if m == nil {
						t.Fatalf("%s did not say which file it created:\n%s", cmd, out)
					}
					migration = m[1]
				}
			}
		case "sql":
			sqlBlocks++
			target := migration
			if sqlBlocks > 1 {
				m := backticked.FindStringSubmatch(b.Before)
				if m == nil {
					t.Fatalf("README: no file named before the block %q", b.Code)
				}
				target = m[1]
			}
			if target == "" {
				t.Fatal("README: SQL before make new-migration")
			}
			step("append to %s: %s", target, strings.TrimSpace(b.Code))
			appendTo(t, filepath.Join(dir, target), b.Code)
		case "go":
			names := backticked.FindAllStringSubmatch(b.Before, -1)
			if len(names) < 2 {
				t.Fatalf("README: the Go block needs its file and the case it goes before named in `…`: %q", b.Before)
			}
			file, beforeCase := names[0][1], names[1][1]
			step("insert into %s before the %s case", file, beforeCase)
			insertBefore(t, filepath.Join(dir, file), fmt.Sprintf("{%q, func(t *testing.T) {", beforeCase), b.Code)
		default:
			t.Fatalf("README: a %q block in the walkthrough: the test knows sh, sql and go", b.Lang)
		}
	}
	if migration == "" {
		t.Fatal("the walkthrough ran no make new-migration")
	}
	// The README's commit command took everything the walkthrough made,
	// and make drift passes on that commit.
	if out := run(t, dir, "git", "status", "--porcelain"); out != "" {
		t.Fatalf("after the README's commit command, these are left uncommitted (add them to it):\n%s", out)
	}
	step("$ make drift (on the commit)")
	if out, err := bash(dir, "make drift"); err != nil {
		t.Fatalf("make drift on the README's commit: %v\n%s", err, out)
	}

	// The documented mistakes: each fails with the README's message and
	// leaves the tree as it was.
	query := filepath.Join(dir, "queries", "users.sql")
	mistakes := []struct {
		name, command string
		make          func()
		doc           string   // the message as the README's table gives it
		want          []string // in the output
	}{
		{"a typo'd column", "make generate", func() { replaceIn(t, query, "SET timezone = ?", "SET tz = ?") },
			`column "tz" does not exist`, []string{`queries/users.sql:`, `column "tz" does not exist`, "nothing was written"}},
		{"an edited shipped migration", "make generate", func() {
			appendTo(t, filepath.Join(dir, "schema", "0009_indexes.sql"), "CREATE INDEX idx_walkthrough ON users(timezone);\n")
		},
			"has shipped", []string{"schema/0009_indexes.sql has shipped", "git checkout -- schema/0009_indexes.sql", "new migration", "nothing was written"}},
		{"check without generate", "make check", func() {
			appendTo(t, query, "\n-- name: CountUsersWithTimezone :one\nSELECT COUNT(*) FROM users WHERE timezone IS NOT NULL;\n")
		},
			"drift: … changed", []string{"changed  gen/db/users.sql.go", "make generate"}},
		{"a deleted generated file", "make check", func() { os.Remove(filepath.Join(dir, "gen", "db", "users.sql.go")) },
			"missing", []string{"missing  gen/db/users.sql.go", "make generate"}},
	}
	for _, m := range mistakes {
		m.make()
		if m.name == "a typo'd column" {
			// sqlc names the statement's start; make generate, the token.
			b, err := os.ReadFile(query)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(string(b), "\n") {
				if c := strings.Index(l, "SET tz = ?"); c >= 0 {
					m.want = append(m.want, fmt.Sprintf("queries/users.sql:%d:%d: ", i+1, c+len("SET ")+1))
				}
			}
		}
		before := tree(t, dir)
		step("mistake: %s; $ %s", m.name, m.command)
		out, err := bash(dir, m.command)
		if err == nil {
			t.Errorf("%s: %s passed\n%s", m.name, m.command, out)
		}
		for _, w := range m.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %s does not say %q:\n%s", m.name, m.command, w, out)
			}
		}
		sameTree(t, m.name+": "+m.command, before, tree(t, dir))
		if !strings.Contains(string(messages), m.doc) {
			t.Errorf("%s: docs/schema.md's table of messages does not give %q", m.name, m.doc)
		}
		run(t, dir, "git", "checkout", "-q", "--", ".")
	}

	// Growth: another table and another nullable column, with no other
	// edit, break no test (widths, JSON keys, TypeScript, upgrades).
	step("growth: a table and a column; $ make new-migration NAME=add_teams; make generate; %s", testCommand())
	out := run(t, dir, "make", "new-migration", "NAME=add_teams")
	m := regexp.MustCompile(`created (schema/\S+\.sql)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("make new-migration did not say which file it created:\n%s", out)
	}
	appendTo(t, filepath.Join(dir, m[1]), "CREATE TABLE teams (\n  id TEXT PRIMARY KEY,\n  label TEXT NOT NULL,\n  motto TEXT\n);\nALTER TABLE invites ADD COLUMN note TEXT;\n")
	if out, err := bash(dir, "make generate"); err != nil {
		t.Fatalf("growth: make generate: %v\n%s", err, out)
	}
	if out, err := bash(dir, testCommand()); err != nil {
		t.Fatalf("growth: a new table and column broke a test (no test may hard-code the schema): %v\n%s", err, out)
	}
	step("done")
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, append(b, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// insertBefore inserts text before the line of path that contains marker.
func insertBefore(t *testing.T, path, marker, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, marker) })
	if i < 0 {
		t.Fatalf("%s has no line with %q, before which the README puts its case", path, marker)
	}
	out := strings.Join(lines[:i], "") + text + strings.Join(lines[i:], "")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
