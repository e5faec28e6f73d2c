package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
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
	migrated(t, env)
	must(t, env, "", "users", "add", "me@acme.test", "--name", "Me")
	must(t, env, "", "users", "add", "bob@acme.test")
	must(t, env, "", "invites", "create", "carol@acme.test", "--by", "me@acme.test")
	env["ORGDB_ENCRYPTION_KEY"] = sealA
}

// gated is org with sign-up restricted to acme.test.
func gated(t *testing.T, env map[string]string) {
	org(t, env)
	must(t, env, "", "settings", "set", "--domain", "acme.test", "--domain-gating", "on", "--by", "me@acme.test")
}

// foreign points ORGDB_DB at another application's SQLite file, which must
// be byte for byte untouched when the test ends.
func foreign(t *testing.T, env map[string]string) {
	path, unchanged := dbtest.ForeignDB(t)
	env["ORGDB_DB"] = path
	t.Cleanup(unchanged)
}

// junk is a file that is not a database.
func junk(t *testing.T, env map[string]string) {
	if err := os.WriteFile(env["ORGDB_DB"], bytes.Repeat([]byte("not a database "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
}

// edited is a migrated database whose record of its newest migration has
// another checksum, as if the file had been edited after it was applied.
func edited(t *testing.T, env map[string]string) {
	migrated(t, env)
	raw, err := sql.Open("sqlite3", dbfile.DSN(env["ORGDB_DB"]))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE schema_migrations SET sha256 = 'abcdef0123456789' WHERE version = (SELECT MAX(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
}

// behind is a database migrated up to the migration before the newest:
// the newest is pending.
func behind(t *testing.T, env map[string]string) {
	ms, err := schema.Load(schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", dbfile.DSN(env["ORGDB_DB"]))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := schema.Migrate(context.Background(), raw, schema.UpTo(schema.FS(), ms[len(ms)-2].Version)); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
}

// newer is a migrated database that records a migration this binary does
// not carry, as a newer orgdb would leave it.
func newer(t *testing.T, env map[string]string) {
	migrated(t, env)
	raw, err := sql.Open("sqlite3", dbfile.DSN(env["ORGDB_DB"]))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (9999, '9999_from_the_future.sql', 'abcdef', '2030-01-01 00:00:00')`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
}

// snapshot is the content of the file at path: every row when it is an
// orgdb database (opened with orgdb's DSN), else its bytes.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	if _, err := dbfile.Inspect(context.Background(), path, schema.FS()); err != nil {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return string(b)
	}
	raw, err := sql.Open("sqlite3", dbfile.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	return dbtest.Snapshot(t, raw)
}

// orgKey is org with an anthropic key set by me@acme.test.
func orgKey(t *testing.T, env map[string]string) {
	org(t, env)
	must(t, env, "sk-fixture", "keys", "set", "anthropic", "--by", "me@acme.test")
}

// cliCase is one run of the CLI: the database before it, the command line,
// and what it must print and exit with. The output discipline is checked
// for every row: exit 0 prints its result on stdout and nothing on stderr;
// exit 1 (a refusal) prints exactly one line on stderr and nothing on
// stdout (but status, whose report is its output: then out is wanted in
// it); exit 2 (a usage error) prints nothing on stdout and two lines on
// stderr, the error and the command's usage line. A refusal or usage error
// changes nothing in the database.
type cliCase struct {
	fix   fixture           // the database before the run; nil: no file
	env   map[string]string // added to the fixture's environment
	stdin string
	args  []string
	code  int
	out   string // wanted in stdout (exit 0; exit 1 of status)
	err   string // wanted in stderr's first line (exit 1 and 2)
}

// cliTable is every command × {success, each refusal, a usage error}. A
// new command adds its rows here; TestEveryCommandInTable checks that each
// command has a success and a usage error.
func cliTable() []cliCase {
	rot := map[string]string{"ORGDB_NEW_ENCRYPTION_KEY": sealB}
	ms, err := schema.Load(schema.FS())
	if err != nil || len(ms) == 0 {
		panic(fmt.Sprintf("the embedded migrations: %v", err))
	}
	newest := ms[len(ms)-1]
	// status pads FILE to the longest name (a tabwriter): the padding
	// follows the migrations, so that adding one breaks no case here.
	width := 0
	for _, m := range ms {
		width = max(width, len(m.File))
	}
	pending := func(file string) string { return fmt.Sprintf("%-*s  pending", width, file) }
	return []cliCase{
		// orgdb, help, completion
		{args: nil, code: 0, out: "Commands:\n  admin bootstrap EMAIL"},
		{args: []string{"--help"}, code: 0, out: "Usage:\n  orgdb [--db FILE] COMMAND"},
		{args: []string{"-h"}, code: 0, out: "Usage:\n  orgdb [--db FILE] COMMAND"},
		{args: []string{"--version"}, code: 0, out: fmt.Sprintf("schema version %d (%s", newest.Version, newest.File)},
		{args: []string{"frobnicate"}, code: 2, err: `unknown command "frobnicate" for "orgdb"`},
		{args: []string{"user"}, code: 2, err: `unknown command "user" for "orgdb" (did you mean users?)`},
		{args: []string{"--bogus"}, code: 2, err: "unknown flag: --bogus"},
		// A typo'd command followed by its flags is the unknown command, not
		// the first flag the root (or group) does not know.
		{args: []string{"bakup", "--to", "{dir}/x.db"}, code: 2, err: `unknown command "bakup" for "orgdb" (did you mean backup?)`},
		{args: []string{"--db", "{dir}/x.db", "bakup", "--to", "{dir}/y.db"}, code: 2, err: `unknown command "bakup" for "orgdb" (did you mean backup?)`},
		{args: []string{"frobnicate", "--bogus"}, code: 2, err: `unknown command "frobnicate" for "orgdb"`},
		{args: []string{"users", "lsit", "--json"}, code: 2, err: `unknown command "lsit" for "orgdb users" (did you mean list?)`},
		{args: []string{"keys", "sett", "openai", "--by", "me@acme.test"}, code: 2, err: `unknown command "sett" for "orgdb keys" (did you mean set?)`},
		{args: []string{"--bogus", "bakup"}, code: 2, err: "unknown flag: --bogus"}, // bakup might be --bogus's value
		{args: []string{"--db"}, code: 2, err: "flag needs an argument: --db"},
		{args: []string{"--db=", "users", "list"}, code: 2, err: `invalid value for --db: needs a file path`},
		{args: []string{"help"}, code: 0, out: "Usage:\n  orgdb [--db FILE] COMMAND"},
		{args: []string{"help", "keys", "set"}, code: 0, out: "Usage:\n  orgdb keys set PROVIDER --by ADMIN_EMAIL"},
		{args: []string{"help", "frob"}, code: 2, err: `no command "frob"`},
		{args: []string{"help", "users", "frob"}, code: 2, err: `no command "users frob"`},
		{args: []string{"help", "keys", "sett"}, code: 2, err: `no command "keys sett" (did you mean set?)`},
		{args: []string{"-db", "x.db", "status"}, code: 2, err: "unknown flag -db: long flags take two dashes (--db)"},
		{args: []string{"users", "add", "ada@acme.test", "-name=Ada"}, code: 2, err: "unknown flag -name: long flags take two dashes (--name)"},
		{args: []string{"completion"}, code: 0, out: "bash"},
		{args: []string{"completion", "frob"}, code: 2, err: `unknown command "frob" for "orgdb completion"`},
		{args: []string{"completion", "bash"}, code: 0, out: "bash completion"},
		{args: []string{"completion", "bash", "extra"}, code: 2, err: `unknown command "extra"`},
		{args: []string{"completion", "zsh"}, code: 0, out: "compdef"},
		{args: []string{"completion", "zsh", "extra"}, code: 2, err: `unknown command "extra"`},
		{args: []string{"completion", "fish"}, code: 0, out: "complete -c orgdb"},
		{args: []string{"completion", "fish", "--bogus"}, code: 2, err: "unknown flag: --bogus"},
		{args: []string{"completion", "powershell"}, code: 0, out: "Register-ArgumentCompleter"},
		{args: []string{"completion", "powershell", "extra"}, code: 2, err: `unknown command "extra"`},

		// migrate, status
		{args: []string{"migrate"}, code: 0, out: fmt.Sprintf("{db}: created, %d migration(s) applied\napplied 0001_initial.sql", len(ms))},
		{fix: behind, args: []string{"migrate"}, code: 0, out: "{db}: 1 migration(s) applied\napplied " + newest.File},
		{fix: migrated, args: []string{"migrate"}, code: 0, out: "{db} is up to date"},
		{fix: migrated, args: []string{"migrate", "--repair-checksums"}, code: 0, out: "is up to date"},
		{fix: edited, args: []string{"migrate", "--repair-checksums"}, code: 0, out: "repaired checksum of " + newest.File},
		{fix: edited, args: []string{"migrate"}, code: 1, err: newest.File + " was edited after it was applied"},
		{fix: foreign, args: []string{"migrate"}, code: 1, err: "not an orgdb database"},
		{fix: junk, args: []string{"migrate"}, code: 1, err: "org.db"},
		{args: []string{"migrate", "--bogus"}, code: 2, err: "unknown flag: --bogus"},
		{args: []string{"migrate", "extra"}, code: 2, err: "want no arguments"},
		// status: exit 0 only when healthy; else the report, and one line on
		// stderr saying what to run.
		{fix: edited, args: []string{"status"}, code: 1, out: "EDITED since applied (was abcdef012345)",
			err: "orgdb status: " + newest.File + " was edited after it was applied: restore the file and put the change in a new migration (or, if the edit is deliberate and changes nothing, run `orgdb migrate --repair-checksums --db {db}`)"},
		{fix: behind, args: []string{"status"}, code: 1, out: pending(newest.File),
			err: "orgdb status: 1 migration pending (" + newest.File + "): apply with `orgdb migrate --db {db}`"},
		{fix: newer, args: []string{"status"}, code: 1, out: "applied, file missing",
			err: "orgdb status: the database has 1 migration (9999_from_the_future.sql), which this orgdb does not carry"},
		{fix: foreign, args: []string{"status"}, code: 1, err: "not an orgdb database"},
		{fix: junk, args: []string{"status"}, code: 1, err: "org.db"},
		{args: []string{"status"}, code: 1, out: pending(ms[0].File), err: "orgdb status: no database at {db} yet: `orgdb migrate --db {db}` creates it"},
		{fix: migrated, args: []string{"status"}, code: 0, out: "applied"},
		{fix: migrated, args: []string{"status"}, code: 0, out: "sealing: no org API key is stored"},
		{args: []string{"status", "extra"}, code: 2, err: "want no arguments"},

		// users
		{args: []string{"users"}, code: 0, out: "set-role"},
		{args: []string{"users", "frob"}, code: 2, err: `unknown command "frob" for "orgdb users"`},
		{args: []string{"users", "lsit"}, code: 2, err: `unknown command "lsit" for "orgdb users" (did you mean list?)`},
		{fix: migrated, args: []string{"users", "add", "ada@acme.test"}, code: 0, out: "{db}: added ada@acme.test as admin"},
		{args: []string{"users", "add", "ada@acme.test"}, code: 1, err: "no orgdb database at {db}: check the path, or create it with `orgdb migrate --db {db}`"},
		{fix: org, args: []string{"users", "add", "carol@acme.test", "--name", "Carol"}, code: 0, out: "added carol@acme.test as member"},
		// The sign-up policy: invites exist, so an invite is required;
		// gated, the domain decides. --bypass-policy is the operator's way around.
		{fix: org, args: []string{"users", "add", "dan@acme.test"}, code: 1, err: "dan@acme.test may not sign up: An invite is required to sign up (sign-up policy rule invite_required); nothing changed; to add the user anyway, as the operator: orgdb users add dan@acme.test --bypass-policy"},
		{fix: org, args: []string{"users", "add", "dan@acme.test", "--bypass-policy"}, code: 0, out: "added dan@acme.test as member"},
		{fix: org, env: map[string]string{"ALLOWED_EMAILS": "dan@acme.test"}, args: []string{"users", "add", "dan@acme.test"}, code: 0, out: "added dan@acme.test as member"},
		{fix: gated, args: []string{"users", "add", "outsider@evil.test"}, code: 1, err: "outsider@evil.test may not sign up: Sign-up is restricted to addresses at the organization's domain (sign-up policy rule email_domain_not_allowed)"},
		{fix: gated, args: []string{"users", "add", "outsider@evil.test", "--bypass-policy"}, code: 0, out: "added outsider@evil.test as member"},
		{fix: gated, args: []string{"users", "add", "dan@acme.test"}, code: 0, out: "added dan@acme.test as member"},
		{fix: org, args: []string{"users", "add", "BOB@acme.test"}, code: 1, err: "already exists"},
		{fix: org, args: []string{"users", "add", "not-an-email"}, code: 2, err: "EMAIL is not a valid email address (the value is not repeated)"},
		{fix: org, args: []string{"users", "add", "sk-ant-api03-pasted-key"}, code: 2, err: "EMAIL is not a valid email address"},
		{fix: foreign, args: []string{"users", "add", "ada@acme.test"}, code: 1, err: "not an orgdb database"},
		{args: []string{"users", "add"}, code: 2, err: "missing EMAIL"},
		{fix: org, args: []string{"users", "list"}, code: 0, out: "bob@acme.test"},
		{fix: org, args: []string{"users", "list", "--json"}, code: 0, out: `"email": "bob@acme.test"`},
		{fix: migrated, args: []string{"users", "list", "--json"}, code: 0, out: "[]\n"},
		{args: []string{"--db", "x.db", "users", "list", "--json"}, code: 1, err: "no orgdb database at x.db"},
		{args: []string{"users", "list"}, code: 1, err: "no orgdb database at"},
		{fix: foreign, args: []string{"users", "list"}, code: 1, err: "not an orgdb database"},
		{args: []string{"users", "list", "extra"}, code: 2, err: "want no arguments"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "admin", "--by", "me@acme.test"}, code: 0, out: "bob@acme.test is now admin (was member)"},
		{fix: org, args: []string{"users", "set-role", "me@acme.test", "admin", "--by", "me@acme.test"}, code: 0, out: "me@acme.test is already admin; nothing changed"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "owner", "--by", "me@acme.test"}, code: 2, err: `ROLE must be one of admin, member`},
		{fix: org, args: []string{"users", "set-role", "me@acme.test", "member", "--by", "me@acme.test"}, code: 1, err: "me@acme.test is the last admin and cannot be demoted"},
		{fix: org, args: []string{"users", "set-role", "me@acme.test", "member", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can change roles; nothing changed"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "admin", "--by", "nobody@acme.test"}, code: 1, err: "--by nobody@acme.test: no user has this email; --by names an admin of the organization (orgdb users list shows them)"},
		{fix: org, args: []string{"users", "set-role", "nobody@acme.test", "admin", "--by", "me@acme.test"}, code: 1, err: "nobody@acme.test"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "admin"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who changes the role"},
		{fix: org, args: []string{"users", "set-role", "bob@acme.test", "--by", "me@acme.test"}, code: 2, err: "missing ROLE"},
		{args: []string{"users", "set-role", "bob@acme.test", "admin", "--by", "me@acme.test"}, code: 1, err: "no orgdb database at {db}"},
		{fix: org, args: []string{"users", "delete", "bob@acme.test", "--by", "me@acme.test"}, code: 0, out: "{db}: deleted bob@acme.test (member, id "},
		{fix: twoAdmins, args: []string{"users", "delete", "bob@acme.test", "--by", "me@acme.test", "--reassign"}, code: 0,
			out: "{db}: deleted bob@acme.test (admin, id "},
		{fix: twoAdmins, args: []string{"users", "delete", "bob@acme.test", "--by", "me@acme.test"}, code: 1,
			err: "orgdb users delete: bob@acme.test sent 1 invite; nothing changed; to give them to me@acme.test and delete the user: orgdb users delete bob@acme.test --by me@acme.test --reassign"},
		{fix: orgKey, args: []string{"users", "delete", "me@acme.test", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can delete users; nothing changed"},
		{fix: org, args: []string{"users", "delete", "bob@acme.test", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can delete users; nothing changed"},
		{fix: org, args: []string{"users", "delete", "me@acme.test", "--by", "me@acme.test"}, code: 1,
			err: "me@acme.test cannot delete themself, and is the only admin: make another user admin first (orgdb users set-role EMAIL admin --by me@acme.test)"},
		{fix: twoAdmins, args: []string{"users", "delete", "me@acme.test", "--by", "me@acme.test"}, code: 1,
			err: "me@acme.test cannot delete themself; another admin can (orgdb users delete me@acme.test --by ADMIN_EMAIL); nothing changed"},
		{fix: twoAdmins, args: []string{"users", "delete", "me@acme.test", "--by", "bob@acme.test"}, code: 1,
			err: "me@acme.test sent 1 invite and set 1 org API key; nothing changed; to give them to bob@acme.test and delete the user: orgdb users delete me@acme.test --by bob@acme.test --reassign"},
		{fix: org, args: []string{"users", "delete", "nobody@acme.test", "--by", "me@acme.test"}, code: 1, err: "user nobody@acme.test not found"},
		// A member is refused before learning whether a user exists.
		{fix: org, args: []string{"users", "delete", "nobody@acme.test", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can delete users"},
		{fix: org, args: []string{"users", "delete", "bob@acme.test", "--by", "nobody@acme.test"}, code: 1, err: "--by nobody@acme.test: no user has this email; --by names an admin of the organization (orgdb users list shows them)"},
		{args: []string{"users", "delete", "bob@acme.test", "--by", "me@acme.test"}, code: 1, err: "no orgdb database at {db}: check the path, or create it with `orgdb migrate --db {db}`"},
		{fix: org, args: []string{"users", "delete", "bob@acme.test"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who deletes the user"},
		{fix: org, args: []string{"users", "delete", "--by", "me@acme.test"}, code: 2, err: "missing EMAIL"},
		{fix: org, args: []string{"users", "delete", "sk-ant-api03-pasted-key", "--by", "me@acme.test"}, code: 2, err: "EMAIL is not a valid email address (the value is not repeated)"},
		{fix: org, args: []string{"users", "delete", "bob@acme.test", "--by", "me@acme.test", "--force"}, code: 2, err: "unknown flag: --force"},

		// invites
		// tokens, serve
		{args: []string{"tokens"}, code: 0, out: "revoke"},
		{args: []string{"tokens", "bogus"}, code: 2, err: `unknown command "bogus" for "orgdb tokens"`},
		{fix: org, args: []string{"tokens", "create", "me@acme.test", "--name", "web"}, code: 0, out: "orgdb_", err: "created token orgdb_"},
		{fix: org, args: []string{"tokens", "create", "nobody@acme.test"}, code: 1, err: "no user has the email nobody@acme.test; nothing created"},
		{fix: org, args: []string{"tokens", "create", "me@acme.test", "--expires", "soon"}, code: 2, err: "--expires soon: want a duration such as 90d or 12h"},
		{fix: org, args: []string{"tokens", "create"}, code: 2, err: "missing EMAIL"},
		{fix: withToken, args: []string{"tokens", "list"}, code: 0, out: "me@acme.test  active"},
		{fix: withToken, args: []string{"tokens", "list", "--json"}, code: 0, out: `"prefix": "orgdb_`},
		{fix: org, args: []string{"tokens", "list", "extra"}, code: 2, err: "got 1 argument, want no arguments"},
		{fix: withToken, args: []string{"tokens", "revoke", "{tokenid}"}, code: 0, out: "{db}: revoked the token {tokenid}"},
		{fix: withToken, args: []string{"tokens", "revoke", "{tokenid}", "--by", "me@acme.test"}, code: 0, out: "revoked the token"},
		{fix: withToken, args: []string{"tokens", "revoke", "{tokenid}", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can revoke tokens"},
		{fix: org, args: []string{"tokens", "revoke", "2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA"}, code: 1, err: `no token with the id "2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA"`},
		{fix: withToken, args: []string{"tokens", "revoke", "orgdb_pasted-token"}, code: 2, err: "not the token itself (the value is not repeated)"},
		{fix: org, args: []string{"tokens", "revoke"}, code: 2, err: "missing ID"},
		{args: []string{"serve", "--help"}, code: 0, out: "Usage:\n  orgdb serve"},
		{fix: org, args: []string{"serve", "extra"}, code: 2, err: "got 1 argument, want no arguments"},
		{fix: org, args: []string{"serve", "--log-format", "xml"}, code: 2, err: "--log-format xml: want text or json"},
		{fix: org, args: []string{"serve", "--static", "{dir}/nope"}, code: 1, err: "not a directory"},
		{args: []string{"serve"}, code: 1, err: "no orgdb database at {db}"},
		{args: []string{"invites"}, code: 0, out: "create"},
		{args: []string{"invites", "frob"}, code: 2, err: `unknown command "frob" for "orgdb invites"`},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--role", "admin", "--by", "me@acme.test"}, code: 0, out: "invited dan@acme.test as admin"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--by", "me@acme.test"}, code: 0, out: "invited dan@acme.test as member"},
		{fix: org, args: []string{"invites", "create", "bob@acme.test", "--by", "me@acme.test"}, code: 1,
			err: "bob@acme.test is already a member of the organization; nothing changed (orgdb users set-role changes a user's role)"},
		{fix: org, args: []string{"invites", "create", "me@acme.test", "--role", "admin", "--by", "me@acme.test"}, code: 1, err: "me@acme.test is already an admin of the organization; nothing changed"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can invite"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--by", "nobody@acme.test"}, code: 1, err: "nobody@acme.test"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--by", "sk-ant-api03-pasted-key"}, code: 2, err: "--by is not a valid email address (the value is not repeated)"},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--role", "owner", "--by", "me@acme.test"}, code: 2, err: `invalid value for --role: ROLE must be one of admin, member`},
		{fix: org, args: []string{"invites", "create", "dan@acme.test", "--role", "sk-ant-api03-pasted-key", "--by", "me@acme.test"}, code: 2, err: `invalid value for --role: ROLE must be one of admin, member`},
		{fix: org, args: []string{"invites", "create", "dan@acme.test"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who invites"},
		{fix: migrated, args: []string{"invites", "create", "dan@acme.test", "--by", "me@acme.test"}, code: 1, err: "--by me@acme.test: no user has this email"},
		{fix: org, args: []string{"invites", "create", "--by", "me@acme.test"}, code: 2, err: "missing EMAIL"},
		{fix: org, args: []string{"invites", "list"}, code: 0, out: "carol@acme.test"},
		{fix: org, args: []string{"invites", "list", "--json"}, code: 0, out: `"email": "carol@acme.test"`},
		{args: []string{"invites", "list"}, code: 1, err: "no orgdb database at"},
		{args: []string{"invites", "list", "--bogus"}, code: 2, err: "unknown flag: --bogus"},
		{fix: org, args: []string{"invites", "revoke", "carol@acme.test", "--by", "me@acme.test"}, code: 0,
			out: "{db}: revoked the pending invite of carol@acme.test as member (id "},
		// The last invite gone, an ungated organization is open again: said.
		{fix: org, args: []string{"invites", "revoke", "Carol@Acme.test", "--by", "me@acme.test"}, code: 0,
			out: "\nno invite is left: sign-up is open to any address until the first invite, unless the service sets $ALLOWED_EMAILS (orgdb settings set restricts it)\n"},
		{fix: expiredInvite, args: []string{"invites", "revoke", "old@acme.test", "--by", "me@acme.test"}, code: 0, out: "{db}: revoked the expired invite of old@acme.test as admin"},
		{fix: accepted, args: []string{"invites", "revoke", "carol@acme.test", "--by", "me@acme.test"}, code: 1,
			err: "carol@acme.test accepted the invite on "},
		{fix: accepted, args: []string{"invites", "revoke", "carol@acme.test", "--by", "bob@acme.test"}, code: 1,
			err: "bob@acme.test is member, not an admin; only an admin can revoke invites; nothing changed"},
		{fix: org, args: []string{"invites", "revoke", "dan@acme.test", "--by", "me@acme.test"}, code: 1, err: "no invite for dan@acme.test: orgdb invites list shows the invites"},
		{fix: acceptedThenDeleted, args: []string{"invites", "revoke", "carol@acme.test", "--by", "me@acme.test"}, code: 0, out: "{db}: revoked the accepted invite of carol@acme.test"},
		{fix: org, args: []string{"invites", "revoke", "2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA", "--by", "me@acme.test"}, code: 1, err: `no invite with the id "2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA": give the invitee's email address, or an id from orgdb invites list`},
		{fix: org, args: []string{"invites", "revoke", "carol", "--by", "me@acme.test"}, code: 1, err: `no invite with the id "carol": give the invitee's email address`},
		{fix: org, args: []string{"invites", "revoke", "sk-ant-api03-pasted-key", "--by", "me@acme.test"}, code: 1, err: "no invite with the id given (not repeated: it is not an invite id)"},
		{fix: org, args: []string{"invites", "revoke", "carol@acme.test", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can revoke invites; nothing changed"},
		{fix: org, args: []string{"invites", "revoke", "carol@acme.test", "--by", "nobody@acme.test"}, code: 1, err: "--by nobody@acme.test: no user has this email; --by names an admin of the organization (orgdb users list shows them)"},
		{args: []string{"invites", "revoke", "carol@acme.test", "--by", "me@acme.test"}, code: 1, err: "no orgdb database at {db}"},
		{fix: org, args: []string{"invites", "revoke", "carol@acme.test"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who revokes the invite"},
		{fix: org, args: []string{"invites", "revoke", "--by", "me@acme.test"}, code: 2, err: "missing EMAIL|ID"},
		{fix: org, args: []string{"invites", "revoke", "carol@", "--by", "me@acme.test"}, code: 2, err: "EMAIL is not a valid email address (the value is not repeated)"},

		// settings
		{args: []string{"settings"}, code: 0, out: "\n  show                   Print the org settings"},
		{args: []string{"settings", "sho"}, code: 2, err: `unknown command "sho" for "orgdb settings" (did you mean set or show?)`},
		{fix: migrated, args: []string{"settings", "show"}, code: 0,
			out: "name:              My Organization\ndomain:            none\ndomain gating:     off\nallowlist:         none\nallowlist gating:  off\n"},
		{fix: migrated, args: []string{"settings", "show"}, code: 0, out: "sign-up:           open to any address until the first invite"},
		{fix: org, args: []string{"settings", "show"}, code: 0, out: "sign-up:           by invite"},
		{fix: gated, args: []string{"settings", "show"}, code: 0, out: "domain:            acme.test\ndomain gating:     on\n"},
		{fix: gated, args: []string{"settings", "show"}, code: 0, out: "sign-up:           only addresses at acme.test (an invite does not bypass it)"},
		{fix: gated, args: []string{"settings", "show", "--json"}, code: 0, out: `"allowedEmailDomain": "acme.test",`},
		{args: []string{"settings", "show"}, code: 1, err: "no orgdb database at {db}"},
		{fix: foreign, args: []string{"settings", "show"}, code: 1, err: "not an orgdb database"},
		{args: []string{"settings", "show", "extra"}, code: 2, err: "want no arguments"},
		{fix: org, args: []string{"settings", "set", "--name", "Acme", "--by", "me@acme.test"}, code: 0,
			out: "{db}: org settings changed by me@acme.test\n  name:  Acme (was My Organization)\n"},
		{fix: org, args: []string{"settings", "set", "--domain", "Acme.test", "--domain-gating", "on", "--by", "me@acme.test"}, code: 0,
			out: "  domain:         acme.test (was none)\n  domain gating:  on (was off)\n"},
		{fix: gated, args: []string{"settings", "set", "--domain-gating", "off", "--domain", "", "--by", "me@acme.test"}, code: 0,
			out: "  domain:         none (was acme.test)\n  domain gating:  off (was on)\n"},
		{fix: org, args: []string{"settings", "set", "--allowlist", "ann@partner.test, Bo@partner.test", "--allowlist-gating", "on", "--by", "me@acme.test"}, code: 0,
			out: "  allowlist:         ann@partner.test,bo@partner.test (was none)\n  allowlist gating:  on (was off)\n"},
		{fix: gated, args: []string{"settings", "set", "--domain-gating", "on", "--by", "me@acme.test"}, code: 0, out: "  domain gating:  on (unchanged)\n"},
		{fix: org, args: []string{"settings", "set", "--domain-gating", "on", "--by", "me@acme.test"}, code: 1,
			err: "orgdb settings set: domain gating requires an allowed email domain (--domain sets it); nothing changed"},
		{fix: org, args: []string{"settings", "set", "--allowlist-gating", "on", "--by", "me@acme.test"}, code: 1,
			err: "the email allowlist is enabled but empty (--allowlist sets it); nothing changed"},
		{fix: org, args: []string{"settings", "set", "--allowlist", "ann@partner.test,not-an-email", "--by", "me@acme.test"}, code: 1, err: "nothing changed"},
		{fix: org, args: []string{"settings", "set", "--domain", "not a domain", "--by", "me@acme.test"}, code: 1, err: "nothing changed"},
		{fix: org, args: []string{"settings", "set", "--name", "", "--by", "me@acme.test"}, code: 1, err: "organization name must be 1–200 characters; nothing changed"},
		{fix: org, args: []string{"settings", "set", "--name", "Evil", "--by", "bob@acme.test"}, code: 1,
			err: "bob@acme.test is member, not an admin; only an admin can change the org settings; nothing changed"},
		{fix: org, args: []string{"settings", "set", "--name", "Evil", "--by", "nobody@acme.test"}, code: 1, err: "--by nobody@acme.test: no user has this email; --by names an admin of the organization (orgdb users list shows them)"},
		{args: []string{"settings", "set", "--name", "Acme", "--by", "me@acme.test"}, code: 1, err: "no orgdb database at {db}"},
		{fix: org, args: []string{"settings", "set", "--by", "me@acme.test"}, code: 2,
			err: "nothing to change: give at least one of --name, --domain, --domain-gating, --allowlist, --allowlist-gating"},
		{fix: org, args: []string{"settings", "set", "--name", "Acme"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who changes the settings"},
		{fix: org, args: []string{"settings", "set", "--domain-gating", "yes", "--by", "me@acme.test"}, code: 2,
			err: "invalid value for --domain-gating: the value must be one of on, off"},
		{fix: org, args: []string{"settings", "set", "--domain-gating", "--by", "me@acme.test"}, code: 2, err: "invalid value for --domain-gating"},
		{fix: org, args: []string{"settings", "set", "Acme", "--by", "me@acme.test"}, code: 2, err: "got 1 argument, want no arguments"},

		// admin
		{args: []string{"admin"}, code: 0, out: "bootstrap"},
		{args: []string{"admin", "frob"}, code: 2, err: `unknown command "frob" for "orgdb admin"`},
		{fix: org, args: []string{"admin", "bootstrap", "bob@acme.test"}, code: 0, out: "already has an admin (me@acme.test); nothing changed"},
		{fix: org, args: []string{"admin", "bootstrap", "nobody@acme.test"}, code: 1, err: "nobody@acme.test"},
		{args: []string{"admin", "bootstrap"}, code: 2, err: "missing EMAIL"},

		// keys
		{args: []string{"keys"}, code: 0, out: "gen-sealing-key"},
		{args: []string{"keys", "frob"}, code: 2, err: `unknown command "frob" for "orgdb keys"`},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 0, out: "anthropic key set by me@acme.test"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can set the org's API keys"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "nobody@acme.test"}, code: 1, err: "nobody@acme.test"},
		{fix: org, stdin: "\n", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "no anthropic key on stdin; nothing stored"},
		{fix: org, stdin: strings.Repeat("k", 5000), args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "anthropic API key must be 1"},
		{fix: org, stdin: "sk-test\nextra-line\n", args: []string{"keys", "set", "openai", "--by", "me@acme.test"}, code: 1, err: "openai API key has a line break at character 8"},
		{fix: orgKey, stdin: "sk-test\ttabbed-part", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "anthropic API key has a tab at character 8"},
		{fix: org, env: map[string]string{"ORGDB_ENCRYPTION_KEY": ""}, stdin: "sk-test", args: []string{"keys", "set", "anthropic", "--by", "me@acme.test"}, code: 1, err: "ORGDB_ENCRYPTION_KEY is not set"},
		{fix: orgKey, env: map[string]string{"ORGDB_ENCRYPTION_KEY": sealB}, stdin: "sk-test", args: []string{"keys", "set", "openai", "--by", "me@acme.test"}, code: 1, err: "sealing key"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "openai"}, code: 2, err: "missing --by ADMIN_EMAIL"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "--by", "me@acme.test"}, code: 2, err: "missing PROVIDER"},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "mistral", "--by", "me@acme.test"}, code: 2, err: `PROVIDER must be one of anthropic, openai, google`},
		// A key pasted where the provider goes is not repeated.
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "sk-ant-api03-pasted-key", "--by", "me@acme.test"}, code: 2, err: `PROVIDER must be one of anthropic, openai, google`},
		{fix: org, args: []string{"keys", "sk-ant-api03-pasted-key"}, code: 2, err: `unknown command (not repeated: it is not a command name) for "orgdb keys"`},
		{fix: org, args: []string{"sk-ant-api03-pasted-key"}, code: 2, err: `unknown command (not repeated: it is not a command name) for "orgdb"`},
		{args: []string{"help", "keys", "sk-ant-api03-pasted-key"}, code: 2, err: `no command (not repeated: it is not a command name)`},
		{fix: org, stdin: "sk-test", args: []string{"keys", "set", "openai", "sk-in-argument", "--by", "me@acme.test"}, code: 2, err: "got 2 arguments, want PROVIDER"},
		{fix: orgKey, args: []string{"keys", "list"}, code: 0, out: "anthropic  yes  me@acme.test"},
		{fix: orgKey, args: []string{"keys", "list", "--json"}, code: 0, out: `"provider": "anthropic"`},
		{fix: org, args: []string{"keys", "list", "--json"}, code: 0, out: "[]\n"},
		{args: []string{"keys", "list"}, code: 1, err: "no orgdb database at"},
		{args: []string{"keys", "list", "extra"}, code: 2, err: "want no arguments"},
		{fix: orgKey, args: []string{"keys", "delete", "anthropic", "--by", "me@acme.test"}, code: 0, out: "sessions fall back to ANTHROPIC_API_KEY"},
		{fix: orgKey, args: []string{"keys", "delete", "anthropic", "--by", "bob@acme.test"}, code: 1, err: "bob@acme.test is member, not an admin; only an admin can delete the org's API keys"},
		{fix: org, args: []string{"keys", "delete", "anthropic", "--by", "me@acme.test"}, code: 1, err: "no anthropic API key is set"},
		{fix: orgKey, args: []string{"keys", "delete", "anthropic"}, code: 2, err: "missing --by ADMIN_EMAIL, the admin who deletes the key"},
		{args: []string{"keys", "delete", "--by", "me@acme.test"}, code: 2, err: "missing PROVIDER"},
		{fix: orgKey, args: []string{"keys", "delete", "mistral", "--by", "me@acme.test"}, code: 2, err: `PROVIDER must be one of`},
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

		// backup, restore, --external-checkpoints ({dir} is the database's
		// directory). The table holds the database open to compare its
		// snapshots, so restore, which refuses a database any process has
		// open, restores to {dir}/new.db here; TestRestoreCommand replaces
		// a database.
		{fix: org, args: []string{"backup", "--to", "{dir}/b.db"}, code: 0, out: "integrity ok"},
		{fix: backedUp, args: []string{"backup", "--to", "{dir}/b.db"}, code: 1, err: "already exists: pass --force"},
		{fix: backedUp, args: []string{"backup", "--to", "{dir}/b.db", "--force"}, code: 0, out: "integrity ok"},
		{args: []string{"backup", "--to", "{dir}/b.db"}, code: 1, err: "no orgdb database at"},
		{fix: org, args: []string{"backup"}, code: 2, err: `required flag(s) "to" not set`},
		{fix: junkDB, args: []string{"backup", "--to", "{dir}/b.db"}, code: 1, err: "org.db: not an orgdb database: it is not a SQLite database"},
		{fix: org, args: []string{"backup", "--to", "{dir}/org.db-wal", "--force"}, code: 1, err: "or one of its -wal, -shm, -journal files"},
		{fix: backedUp, args: []string{"--db", "{dir}/new.db", "restore", "--from", "{dir}/b.db", "--create"}, code: 0, out: "integrity ok, migrations match this orgdb"},
		{fix: backedUp, args: []string{"--db", "{dir}/new.db", "restore", "--from", "{dir}/b.db"}, code: 1, err: "no database at {dir}/new.db: check the path (--db, $ORGDB_DB); to restore into a new database there, pass --create"},
		{fix: org, args: []string{"restore", "--from", "{dir}/none.db"}, code: 1, err: "orgdb restore: no backup at {dir}/none.db: check the path (--from)"},
		{fix: junkBackup, args: []string{"--db", "{dir}/new.db", "restore", "--from", "{dir}/b.db", "--create"}, code: 1, err: "not a database; nothing was changed"},
		{fix: org, args: []string{"restore"}, code: 2, err: `required flag(s) "from" not set`},
		{fix: org, env: map[string]string{"ORGDB_EXTERNAL_CHECKPOINTS": "1"}, args: []string{"users", "add", "carol@acme.test"}, code: 0, out: "added carol@acme.test"},
		{fix: org, args: []string{"--external-checkpoints", "users", "add", "carol@acme.test"}, code: 0, out: "added carol@acme.test"},
		{fix: org, env: map[string]string{"ORGDB_EXTERNAL_CHECKPOINTS": "yes"}, args: []string{"users", "add", "carol@acme.test"}, code: 2, err: "want 1 or 0"},
	}
}

// twoAdmins is org with bob@acme.test an admin who invited dan@acme.test,
// and me@acme.test's anthropic key set.
func twoAdmins(t *testing.T, env map[string]string) {
	orgKey(t, env)
	must(t, env, "", "users", "set-role", "bob@acme.test", "admin", "--by", "me@acme.test")
	must(t, env, "", "invites", "create", "dan@acme.test", "--by", "bob@acme.test")
}

// accepted is org once carol@acme.test signed up with her invite.
func accepted(t *testing.T, env map[string]string) {
	org(t, env)
	must(t, env, "", "users", "add", "carol@acme.test")
}

// acceptedThenDeleted is accepted once carol@acme.test was deleted: her
// accepted invite stays.
func acceptedThenDeleted(t *testing.T, env map[string]string) {
	accepted(t, env)
	must(t, env, "", "users", "delete", "carol@acme.test", "--by", "me@acme.test")
}

// expiredInvite is org with an admin invite for old@acme.test that expired
// a week ago.
func expiredInvite(t *testing.T, env map[string]string) {
	org(t, env)
	monthAgo := func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }
	st, err := store.Open(context.Background(), env["ORGDB_DB"], store.WithClock(monthAgo))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	me, err := st.GetUserByEmail(context.Background(), "me@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateInvite(context.Background(), store.ByUser(me.ID), store.NewInvite{Email: "old@acme.test", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// backedUp is org with a backup at {dir}/b.db.
func backedUp(t *testing.T, env map[string]string) {
	org(t, env)
	must(t, env, "", "backup", "--to", filepath.Join(filepath.Dir(env["ORGDB_DB"]), "b.db"))
}

// tokenIDVar holds, in a row's environment, the id of withToken's token.
const tokenIDVar = "TEST_TOKEN_ID"

// withToken is org with an API token for me@acme.test, whose id is
// env[tokenIDVar].
func withToken(t *testing.T, env map[string]string) {
	org(t, env)
	code, _, errs := cliIn(t, env, "", "tokens", "create", "me@acme.test")
	if code != 0 {
		t.Fatalf("fixture: tokens create: exit %d: %s", code, errs)
	}
	_, after, _ := strings.Cut(errs, ", id ")
	id, _, _ := strings.Cut(after, ",")
	if id == "" {
		t.Fatalf("fixture: tokens create named no id: %q", errs)
	}
	env[tokenIDVar] = id
}

// junkDB points ORGDB_DB at a text file that is not a database.
func junkDB(t *testing.T, env map[string]string) {
	if err := os.WriteFile(env["ORGDB_DB"], []byte("notes, not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// junkBackup is org with a file at {dir}/b.db that is not a database.
func junkBackup(t *testing.T, env map[string]string) {
	org(t, env)
	if err := os.WriteFile(filepath.Join(filepath.Dir(env["ORGDB_DB"]), "b.db"), []byte(strings.Repeat("junk", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCLITable(t *testing.T) {
	t.Parallel()
	for _, c := range cliTable() {
		t.Run(strings.Join(c.args, " ")+"/exit"+string(rune('0'+c.code)), func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
			if c.fix != nil {
				c.fix(t, env)
			}
			path := env["ORGDB_DB"]
			before := snapshot(t, path)
			for k, v := range c.env {
				env[k] = v
			}
			// {dir} is the database's directory, {db} the database.
			// {tokenid} is the id of withToken's token.
			expand := strings.NewReplacer("{dir}", filepath.Dir(path), "{db}", path, "{tokenid}", env[tokenIDVar]).Replace
			args := slices.Clone(c.args)
			for i := range args {
				args[i] = expand(args[i])
			}
			code, out, errs := cliIn(t, env, c.stdin, args...)
			c.err, c.out = expand(c.err), expand(c.out)
			checkRun(t, c, code, out, errs)
			if c.code != 0 && snapshot(t, path) != before {
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
		// c.err, for a success, is what stderr must say besides (tokens
		// create: its stdout is the token alone).
		if (c.err == "" && errs != "") || !strings.Contains(errs, c.err) || !strings.Contains(out, c.out) || c.out == "" {
			t.Errorf("want %q on stdout and %q on stderr; got stdout %q, stderr %q", c.out, c.err, out, errs)
		}
	case 1:
		if (c.out == "" && out != "") || !strings.Contains(out, c.out) || len(lines) != 1 || !strings.HasSuffix(errs, "\n") || !strings.Contains(lines[0], c.err) || c.err == "" {
			t.Errorf("want one line on stderr containing %q and %q on stdout; got stdout %q, stderr %q", c.err, c.out, out, errs)
		}
	case 2:
		if out != "" || len(lines) != 2 || !strings.Contains(lines[0], c.err) || c.err == "" ||
			!strings.HasPrefix(lines[1], "usage: orgdb") || !strings.HasSuffix(errs, "\n") {
			t.Errorf("want the error (containing %q) and the usage line on stderr, nothing on stdout; got stdout %q, stderr %q", c.err, out, errs)
		}
	}
	// A completion script is shell code, not a message.
	if len(c.args) >= 2 && c.args[0] == "completion" {
		noGoIdentifiers(t, errs)
	} else {
		noGoIdentifiers(t, out+errs)
	}
	for _, secret := range []string{"sk-test", "sk-fixture", "sk-in-argument", "extra-line", "tabbed-part", "sk-ant-api03", sealA, sealB, sealC} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("output repeats the secret %q", secret)
		}
	}
}

// goIdentifier matches a qualified Go identifier (backup.Overwrite,
// orgdb.Error, db.User): words for a Go programmer, not for the CLI's user.
var goIdentifier = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[A-Z][A-Za-z0-9]*\b`)

// noGoIdentifiers fails the test if text, what the CLI printed, names a Go
// identifier: its messages speak of flags and commands. checkRun applies it
// to every row of the table, TestEveryCommandHasHelp to every command's
// help.
func noGoIdentifiers(t *testing.T, text string) {
	t.Helper()
	if ids := goIdentifier.FindAllString(text, -1); len(ids) > 0 {
		t.Errorf("the output names Go identifiers %q; say it in the CLI's words (a flag, a command):\n%s", ids, text)
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
