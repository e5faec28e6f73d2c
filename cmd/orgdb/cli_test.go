package main

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/internal/dbtest"
)

// Sealing keys for the table: base64 of 32 fixed bytes each.
var (
	sealA = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	sealB = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	sealC = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("c", 32)))
)

// fixture prepares the database at env["ORGDB_DB"] with the CLI itself
// and may add to env.
type fixture func(t *testing.T, env map[string]string)

// must runs the CLI for a fixture and fails the test unless it succeeds.
func must(t *testing.T, env map[string]string, stdin string, args ...string) {
	t.Helper()
	if code, _, errs := cliIn(t, env, stdin, args...); code != 0 {
		t.Fatalf("fixture: orgdb %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
}

// migrated is an empty, migrated database.
func migrated(t *testing.T, env map[string]string) { must(t, env, "", "migrate") }

// org is an organization: me@acme.test (admin), bob@acme.test (member), a
// pending invite for carol@acme.test, and $ORGDB_ENCRYPTION_KEY set.
func org(t *testing.T, env map[string]string) {
	must(t, env, "", "users", "add", "me@acme.test", "--name", "Me")
	must(t, env, "", "users", "add", "bob@acme.test")
	must(t, env, "", "invites", "create", "carol@acme.test")
	env["ORGDB_ENCRYPTION_KEY"] = sealA
}

// orgKey is org with an anthropic key set by me@acme.test.
func orgKey(t *testing.T, env map[string]string) {
	org(t, env)
	must(t, env, "sk-fixture", "keys", "set", "anthropic", "--by", "me@acme.test")
}

// cliCase is one run of the CLI: the database before it, the command line,
// and what it must print and exit with. The output discipline is checked
// for every row: exit 0 prints its result on stdout and nothing on stderr;
// exit 1 (a refusal) prints nothing on stdout and exactly one line on
// stderr; exit 2 (a usage error) prints nothing on stdout and two lines on
// stderr, the error and the command's usage line. A refusal or usage error
// changes nothing in the database.
type cliCase struct {
	fix   fixture           // the database before the run; nil: no file
	env   map[string]string // added to the fixture's environment
	stdin string
	args  []string
	code  int
	out   string // wanted in stdout (exit 0)
	err   string // wanted in stderr's first line (exit 1 and 2)
}

// cliTable is every command × {success, each refusal, a usage error}. A
// new command adds its rows here; TestEveryCommandInTable checks that each
// command has a success and a usage error.
func cliTable() []cliCase {
	rot := map[string]string{"ORGDB_NEW_ENCRYPTION_KEY": sealB}
	return []cliCase{
		// orgdb
		{args: nil, code: 0, out: "Available Commands"},
		{args: []string{"--help"}, code: 0, out: "Available Commands"},
		{args: []string{"frobnicate"}, code: 2, err: `unknown command "frobnicate" for "orgdb"`},
		{args: []string{"--bogus"}, code: 2, err: "unknown flag: --bogus"},

		// migrate, status
		{args: []string{"migrate"}, code: 0, out: "applied 0001_initial.sql"},
		{fix: migrated, args: []string{"migrate"}, code: 0, out: "is up to date"},
		{fix: migrated, args: []string{"migrate", "--repair-checksums"}, code: 0, out: "is up to date"},
		{args: []string{"migrate", "--bogus"}, code: 2, err: "unknown flag: --bogus"},
		{args: []string{"migrate", "extra"}, code: 2, err: "1 arguments given, want no arguments"},
		{args: []string{"status"}, code: 0, out: "no database at"},
		{fix: migrated, args: []string{"status"}, code: 0, out: "applied"},
		{fix: migrated, args: []string{"status"}, code: 0, out: "sealing: no org API key is stored"},
		{args: []string{"status", "extra"}, code: 2, err: "want no arguments"},

		// users
		{args: []string{"users"}, code: 0, out: "set-role"},
		{args: []string{"users", "frob"}, code: 2, err: `unknown command "frob" for "orgdb users"`},
		{args: []string{"users", "add", "ada@acme.test"}, code: 0, out: "added ada@acme.test as admin"},
		{fix: org, args: []string{"users", "add", "dan@acme.test", "--name", "Dan"}, code: 0, out: "added dan@acme.test as member"},
		{fix: org, args: []string{"users", "add", "carol@acme.test"}, code: 0, out: "added carol@acme.test as member"},
		{fix: org, args: []string{"users", "add", "BOB@acme.test"}, code: 1, err: "already exists"},
		{fix: org, args: []string{"users", "add", "not-an-email"}, code: 1, err: "invalid email"},
		{args: []string{"users", "add"}, code: 2, err: "missing EMAIL"},
		{fix: org, args: []string{"users", "list"}, code: 0, out: "bob@acme.test"},
		{args: []string{"users", "list"}, code: 1, err: "no orgdb database at"},
		{args: []string{"users", "list", "extra"}, code: 2, err: "want no arguments"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "admin"}, code: 0, out: "bob@acme.test is now admin"},
		{fix: org, args: []string{"users", "set-role", "me@acme.test", "member"}, code: 1, err: "cannot demote the last admin"},
		{fix: org, args: []string{"users", "set-role", "nobody@acme.test", "admin"}, code: 1, err: "not found"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test"}, code: 2, err: "missing ROLE"},

		// invites
		{args: []string{"invites"}, code: 0, out: "create"},
		{args: []string{"invites", "frob"}, code: 2, err: `unknown command "frob" for "orgdb invites"`},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--role", "admin"}, code: 0, out: "invited dan@acme.test as admin"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--by", "me@acme.test"}, code: 0, out: "invited dan@acme.test as member"},
		{fix: org, args: []string{"invites", "create", "bob@acme.test"}, code: 1, err: "already a member"},
		{fix: migrated, args: []string{"invites", "create", "dan@acme.test"}, code: 1, err: "no admin to invite on behalf of"},
		{fix: org, args: []string{"invites", "create"}, code: 2, err: "missing EMAIL"},
		{fix: org, args: []string{"invites", "list"}, code: 0, out: "carol@acme.test"},
		{args: []string{"invites", "list"}, code: 1, err: "no orgdb database at"},
		{args: []string{"invites", "list", "--bogus"}, code: 2, err: "unknown flag: --bogus"},

		// admin
		{args: []string{"admin"}, code: 0, out: "bootstrap"},
		{args: []string{"admin", "frob"}, code: 2, err: `unknown command "frob" for "orgdb admin"`},
		{fix: org, args: []string{"admin", "bootstrap", "bob@acme.test"}, code: 0, out: "already has an admin; nothing changed"},
		{fix: org, args: []string{"admin", "bootstrap", "nobody@acme.test"}, code: 1, err: "not found"},
		{args: []string{"admin", "bootstrap"}, code: 2, err: "missing EMAIL"},

		// keys
		{args: []string{"keys"}, code: 0, out: "gen-sealing-key"},
		{args: []string{"keys", "frob"}, code: 2, err: `unknown command "frob" for "orgdb keys"`},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 0, out: "anthropic key set by me@acme.test"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "bob@acme.test"}, code: 1, err: "Admin access required"},
		{fix: org, stdin: "\n", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "must be 1"},
		{fix: org, env: map[string]string{"ORGDB_ENCRYPTION_KEY": ""}, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "ORGDB_ENCRYPTION_KEY is not set"},
		{fix: orgKey, env: map[string]string{"ORGDB_ENCRYPTION_KEY": sealB}, stdin: "sk-test", args: []string{"keys", "set", "openai", "--by", "me@acme.test"}, code: 1, err: "sealing key"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "openai"}, code: 2, err: `"by"`},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "openai", "sk-in-argument", "--by", "me@acme.test"}, code: 2, err: "2 arguments given, want PROVIDER"},
		{fix: orgKey, args: []string{"keys", "list"}, code: 0, out: "anthropic  yes  me@acme.test"},
		{args: []string{"keys", "list"}, code: 1, err: "no orgdb database at"},
		{args: []string{"keys", "list", "extra"}, code: 2, err: "want no arguments"},
		{fix: orgKey, args: []string{"keys", "delete", "anthropic"}, code: 0, out: "sessions fall back to ANTHROPIC_API_KEY"},
		{fix: org, args: []string{"keys", "delete", "anthropic"}, code: 1, err: "no anthropic API key is set"},
		{args: []string{"keys", "delete"}, code: 2, err: "missing PROVIDER"},
		{fix: orgKey, env: rot, args: []string{"keys", "rotate"}, code: 0, out: "re-sealed 1 key(s)"},
		{fix: orgKey, args: []string{"keys", "rotate"}, code: 1, err: "ORGDB_NEW_ENCRYPTION_KEY is not set"},
		{fix: orgKey, env: map[string]string{"ORGDB_ENCRYPTION_KEY": sealB, "ORGDB_NEW_ENCRYPTION_KEY": sealC}, args: []string{"keys", "rotate"}, code: 1, err: "sealed with sealing key"},
		{fix: orgKey, env: rot, args: []string{"keys", "rotate", "now"}, code: 2, err: "want no arguments"},
		{fix: orgKey, env: map[string]string{"ORGDB_ENCRYPTION_KEY": "passphrase:not the key in use"}, args: []string{"keys", "rotate"}, code: 1, err: "sealed with sealing key"},
		{args: []string{"keys", "gen-sealing-key"}, code: 0, out: "="},
		{args: []string{"keys", "gen-sealing-key", "extra"}, code: 2, err: "want no arguments"},

		// role (LiteFS; the replica's rows are in litefs_test.go)
		{fix: migrated, args: []string{"role"}, code: 0, out: "standalone"},
		{args: []string{"role"}, code: 1, err: "no orgdb database at"},
		{args: []string{"role", "extra"}, code: 2, err: "want no arguments"},
	}
}

func TestCLITable(t *testing.T) {
	t.Parallel()
	for _, c := range cliTable() {
		t.Run(strings.Join(c.args, " ")+"/exit"+string(rune('0'+c.code)), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "org.db")
			env := map[string]string{"ORGDB_DB": path}
			var before func() string
			if c.fix != nil {
				c.fix(t, env)
				raw := dbtest.Raw(t, path)
				before = func() string { return dbtest.Snapshot(t, raw) }
			}
			snap := ""
			if before != nil {
				snap = before()
			}
			for k, v := range c.env {
				env[k] = v
			}
			code, out, errs := cliIn(t, env, c.stdin, c.args...)
			checkRun(t, c, code, out, errs)
			if c.code != 0 && before != nil && before() != snap {
				t.Errorf("exit %d changed the database", c.code)
			}
		})
	}
}

// checkRun checks one run against its row and the output discipline.
func checkRun(t *testing.T, c cliCase, code int, out, errs string) {
	t.Helper()
	if code != c.code {
		t.Fatalf("exit %d, want %d\nstdout: %q\nstderr: %q", code, c.code, out, errs)
	}
	lines := strings.SplitAfter(errs, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	switch code {
	case 0:
		if errs != "" || !strings.Contains(out, c.out) || c.out == "" {
			t.Errorf("want %q on stdout and nothing on stderr; got stdout %q, stderr %q", c.out, out, errs)
		}
	case 1:
		if out != "" || len(lines) != 1 || !strings.HasSuffix(errs, "\n") || !strings.Contains(lines[0], c.err) || c.err == "" {
			t.Errorf("want one line on stderr containing %q and nothing on stdout; got stdout %q, stderr %q", c.err, out, errs)
		}
	case 2:
		if out != "" || len(lines) != 2 || !strings.Contains(lines[0], c.err) || c.err == "" ||
			!strings.HasPrefix(lines[1], "usage: orgdb") || !strings.HasSuffix(errs, "\n") {
			t.Errorf("want the error (containing %q) and the usage line on stderr, nothing on stdout; got stdout %q, stderr %q", c.err, out, errs)
		}
	}
	for _, secret := range []string{"sk-test", "sk-fixture", "sk-in-argument", sealA, sealB, sealC} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("output repeats the secret %q", secret)
		}
	}
}

// TestEveryCommandInTable: every command of the tree has rows in the
// table, at least a success and a usage error.
func TestEveryCommandInTable(t *testing.T) {
	t.Parallel()
	root := newRoot(&env{getenv: func(string) string { return "" }})
	has := map[*cobra.Command]map[int]bool{}
	for _, c := range cliTable() {
		cmd, _, err := root.Find(c.args)
		if err != nil {
			t.Fatalf("orgdb %s: %v", strings.Join(c.args, " "), err)
		}
		if has[cmd] == nil {
			has[cmd] = map[int]bool{}
		}
		has[cmd][c.code] = true
	}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if !cmd.Hidden && cmd.Runnable() {
			for _, code := range []int{0, 2} {
				if !has[cmd][code] {
					t.Errorf("%s has no row with exit %d in cliTable", cmd.CommandPath(), code)
				}
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
