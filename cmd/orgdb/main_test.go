package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// cli runs the CLI in-process with the given environment.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cliIn(t, env, "", args...)
}

// cliIn runs the CLI in-process with stdin.
func cliIn(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestMigrateAndStatus(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "dir", "orgdb.db")
	code, out, errs := cli(t, nil, "status", "--db", path)
	if code != 1 || !strings.Contains(out, "0001_initial.sql") || !strings.Contains(out, "pending") || !strings.Contains(errs, "orgdb migrate --db "+path) {
		t.Fatalf("status before migrate: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("status created the database file")
	}

	code, out, errs = cli(t, nil, "migrate", "--db", path)
	if code != 0 || errs != "" {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	for _, want := range []string{"applied 0001_initial.sql", "applied 0006_organization.sql", "VERSION", "0006  "} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, nil, "status", "--db", path)
	if code != 0 || strings.Contains(out, "pending") || strings.Count(out, "applied") < 3 {
		t.Errorf("status after migrate:\n%s", out)
	}
	code, out, _ = cli(t, nil, "migrate", "--db", path)
	if code != 0 || !strings.Contains(out, "is up to date") {
		t.Errorf("second migrate: %d\n%s", code, out)
	}
}

func TestDatabaseFromEnvironment(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "env.db")
	if code, _, errs := cli(t, map[string]string{"ORGDB_DB": path}, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("ORGDB_DB not used: %v", err)
	}
	// --db wins over ORGDB_DB.
	other := filepath.Join(t.TempDir(), "flag.db")
	if code, _, errs := cli(t, map[string]string{"ORGDB_DB": path}, "migrate", "--db", other); code != 0 {
		t.Fatalf("migrate --db: %s", errs)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("--db not used: %v", err)
	}
	// --db before the command works too.
	third := filepath.Join(t.TempDir(), "before.db")
	if code, _, errs := cli(t, nil, "migrate", "--db", third); code != 0 {
		t.Fatalf("migrate --db: %s", errs)
	}
	if code, _, errs := cli(t, map[string]string{"ORGDB_DB": path}, "--db", third, "users", "add", "ada@acme.test"); code != 0 {
		t.Fatalf("--db before the command: %s", errs)
	}
	if code, out, errs := cli(t, nil, "--db", third, "users", "list"); code != 0 || !strings.Contains(out, "ada@acme.test") {
		t.Errorf("--db before users list: %d %q %q", code, out, errs)
	}
}

func TestDefaultDatabase(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, errs := cli(t, nil, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if _, err := os.Stat(DefaultDB); err != nil {
		t.Errorf("default database not created: %v", err)
	}
}

func TestUsageAndFailures(t *testing.T) {
	t.Parallel()
	if code, out, _ := cli(t, nil, "--help"); code != 0 || !strings.Contains(out, "migrate") || !strings.Contains(out, "status") {
		t.Errorf("--help: %d %q", code, out)
	}
	// Bare orgdb is a request for help: on stdout, exit 0.
	if code, out, errs := cli(t, nil); code != 0 || !strings.Contains(out, "users") || errs != "" {
		t.Errorf("no command: exit %d, %q %q", code, out, errs)
	}
	if code, _, errs := cli(t, nil, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, _, errs := cli(t, nil, "migrate", "--bogus"); code != 2 || errs == "" {
		t.Errorf("unknown flag: %d %q", code, errs)
	}
	if code, _, errs := cli(t, nil, "status", "extra"); code != 2 || errs == "" {
		t.Errorf("extra argument: %d %q", code, errs)
	}
	// A database that cannot be created: exit 1 and one line saying why.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := cli(t, nil, "migrate", "--db", filepath.Join(blocker, "orgdb.db"))
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "orgdb migrate: ") {
		t.Errorf("uncreatable database: %d %q", code, errs)
	}
	// A file that is not a database.
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = cli(t, nil, "migrate", "--db", junk)
	if code != 1 || strings.Count(errs, "\n") != 1 {
		t.Errorf("junk database: %d %q", code, errs)
	}
}

func TestOrgCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	ok := func(args ...string) string {
		t.Helper()
		code, out, errs := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("orgdb %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		code, _, errs := cli(t, env, args...)
		if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
			t.Errorf("orgdb %s: exit %d, stderr %q; want exit 1 and one line containing %q", strings.Join(args, " "), code, errs, want)
		}
	}

	ok("migrate")
	if out := ok("users", "add", "Me@Acme.test", "--name", "Me"); !strings.Contains(out, "added me@acme.test as admin") {
		t.Errorf("first user: %q", out)
	}
	if out := ok("users", "add", "--name", "Bob", "bob@acme.test"); !strings.Contains(out, "as member") {
		t.Errorf("second user: %q", out)
	}
	out := ok("users", "list")
	if i, j := strings.Index(out, "me@acme.test"), strings.Index(out, "bob@acme.test"); i < 0 || j < i || !strings.Contains(out, "Bob") {
		t.Errorf("users list (oldest first):\n%s", out)
	}
	refused("me@acme.test is the last admin and cannot be demoted", "users", "set-role", "me@acme.test", "member", "--by", "me@acme.test")
	refused("not found", "users", "set-role", "nobody@acme.test", "admin", "--by", "me@acme.test")
	refused("already exists", "users", "add", "BOB@acme.test")

	if out := ok("invites", "create", "carol@acme.test", "--role", "admin", "--by", "me@acme.test"); !strings.Contains(out, "invited carol@acme.test as admin") {
		t.Errorf("invites create: %q", out)
	}
	refused("bob@acme.test is member, not an admin; only an admin can invite", "invites", "create", "dan@acme.test", "--by", "bob@acme.test")
	refused("already a member", "invites", "create", "bob@acme.test", "--by", "me@acme.test")
	// Invites exist now: a stranger needs one.
	refused("dan@acme.test may not sign up: An invite is required to sign up", "users", "add", "dan@acme.test")
	if out := ok("invites", "list"); !strings.Contains(out, "carol@acme.test") || !strings.Contains(out, "pending") {
		t.Errorf("invites list:\n%s", out)
	}
	// Signing up with the invite gives its role.
	if out := ok("users", "add", "carol@acme.test"); !strings.Contains(out, "as admin") {
		t.Errorf("invited sign-up: %q", out)
	}
	if out := ok("invites", "list"); !strings.Contains(out, "accepted") {
		t.Errorf("invites list after sign-up:\n%s", out)
	}
	if out := ok("users", "set-role", "me@acme.test", "member", "--by", "carol@acme.test"); !strings.Contains(out, "me@acme.test is now member") {
		t.Errorf("set-role with another admin: %q", out)
	}

	if out := ok("admin", "bootstrap", "bob@acme.test"); !strings.Contains(out, "already has an admin") {
		t.Errorf("bootstrap with an admin: %q", out)
	}
	refused("not found", "admin", "bootstrap", "nobody@acme.test")
	if code, out, _ := cli(t, env, "users"); code != 0 || !strings.Contains(out, "set-role") {
		t.Errorf("users without a subcommand: exit %d, %q", code, out)
	}
	if code, _, _ := cli(t, env, "users", "frob"); code != 2 {
		t.Errorf("users frob: exit %d", code)
	}
}

func TestAdminBootstrapPromotes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "org.db")
	env := map[string]string{"ORGDB_DB": path}
	if code, _, errs := cli(t, env, "migrate"); code != 0 {
		t.Fatal(errs)
	}
	// A member-only database, as left by the service before roles.
	db, err := sql.Open("sqlite3", dbfile.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := db.Exec(`INSERT INTO users (id, email) VALUES ('u1', 'ada@acme.test')`); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, env, "admin", "bootstrap", "ADA@acme.test")
	if code != 0 || !strings.Contains(out, "is now admin") {
		t.Fatalf("bootstrap: %d %q %q", code, out, errs)
	}
	var role string
	if err := db.QueryRow(`SELECT role FROM users WHERE id = 'u1'`).Scan(&role); err != nil || role != "admin" {
		t.Errorf("role = %s, %v", role, err)
	}
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "org.db")
	code, gen, _ := cli(t, nil, "keys", "gen-sealing-key")
	if code != 0 || len(strings.TrimSpace(gen)) != 44 {
		t.Fatalf("gen-sealing-key: %d %q", code, gen)
	}
	env := map[string]string{"ORGDB_DB": path, "ORGDB_ENCRYPTION_KEY": strings.TrimSpace(gen)}
	if code, _, errs := cli(t, env, "migrate"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, env, "users", "add", "me@acme.test"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, env, "users", "add", "bob@acme.test"); code != 0 {
		t.Fatal(errs)
	}

	code, out, errs := cliIn(t, env, "sk-test", "keys", "set", "anthropic", "--by", "me@acme.test")
	if code != 0 || !strings.Contains(out, "anthropic key set") || strings.Contains(out+errs, "sk-test") {
		t.Fatalf("keys set: %d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, env, "keys", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.Contains(lines[1], "anthropic  yes  me@acme.test") ||
		!strings.Contains(lines[2], "openai     no") || !strings.Contains(lines[3], "google     no") || strings.Contains(out, "sk-test") {
		t.Errorf("keys list:\n%s", out)
	}
	db, err := sql.Open("sqlite3", dbfile.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	var sealed string
	if err := db.QueryRow(`SELECT encrypted_key FROM org_api_keys`).Scan(&sealed); err != nil || sealed == "" || strings.Contains(sealed, "sk-test") {
		t.Errorf("stored = %q, %v", sealed, err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("sk-test")) {
			t.Errorf("%s holds the plaintext", f)
		}
	}

	refusedKeys := func(want string, env map[string]string, stdin string, args ...string) {
		t.Helper()
		code, _, errs := cliIn(t, env, stdin, args...)
		if code == 0 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) || strings.Contains(errs, "sk-") {
			t.Errorf("orgdb %s: exit %d, %q; want a one-line refusal containing %q", strings.Join(args, " "), code, errs, want)
		}
	}
	refusedKeys("bob@acme.test is member, not an admin", env, "sk-other", "keys", "set", "openai", "--by", "bob@acme.test")
	refusedKeys("no openai key on stdin", env, "\n", "keys", "set", "openai", "--by", "me@acme.test")
	for _, args := range [][]string{
		{"keys", "set", "openai"},
		{"keys", "set", "openai", "sk-in-argument", "--by", "me@acme.test"},
		{"keys", "set", "mistral", "--by", "me@acme.test"},
	} {
		code, _, errs := cliIn(t, env, "sk-other", args...)
		if code != 2 || strings.Count(errs, "\n") != 2 || strings.Contains(errs, "sk-") {
			t.Errorf("orgdb %s: exit %d, %q; want a usage error that repeats no key", strings.Join(args, " "), code, errs)
		}
	}
	noKey := map[string]string{"ORGDB_DB": path}
	refusedKeys("ORGDB_ENCRYPTION_KEY is not set", noKey, "sk-other", "keys", "set", "openai", "--by", "me@acme.test")
	short := map[string]string{"ORGDB_DB": path, "ORGDB_ENCRYPTION_KEY": "c2hvcnQ="}
	refusedKeys("decodes to 5 bytes", short, "sk-other", "keys", "set", "openai", "--by", "me@acme.test")

	// Rotation: from ORGDB_ENCRYPTION_KEY to ORGDB_NEW_ENCRYPTION_KEY.
	_, next, _ := cli(t, nil, "keys", "gen-sealing-key")
	rot := map[string]string{"ORGDB_DB": path, "ORGDB_ENCRYPTION_KEY": env["ORGDB_ENCRYPTION_KEY"], "ORGDB_NEW_ENCRYPTION_KEY": strings.TrimSpace(next)}
	if code, out, errs := cli(t, rot, "keys", "rotate"); code != 0 || !strings.Contains(out, "re-sealed 1 key") {
		t.Fatalf("keys rotate: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, rot, "keys", "rotate"); code != 0 || !strings.Contains(out, "re-sealed 0 key") {
		t.Errorf("second keys rotate: %d %q", code, out)
	}
	refusedKeys("ORGDB_NEW_ENCRYPTION_KEY is not set", env, "", "keys", "rotate")
	// The old key no longer opens the stored keys.
	refusedKeys("sealed with sealing key", map[string]string{"ORGDB_DB": path, "ORGDB_ENCRYPTION_KEY": strings.TrimSpace(gen), "ORGDB_NEW_ENCRYPTION_KEY": seal.GenerateKey()}, "", "keys", "rotate")
	after := map[string]string{"ORGDB_DB": path, "ORGDB_ENCRYPTION_KEY": strings.TrimSpace(next)}
	st, err := store.Open(context.Background(), path, store.WithSealingKey(mustKey(t, after["ORGDB_ENCRYPTION_KEY"])))
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.OpenOrgAPIKey(context.Background(), "anthropic")
	if cerr := st.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil || got.Reveal() != "sk-test" {
		t.Errorf("after rotation: %v", err)
	}

	// A shell still holding the old key cannot seal under it any more; the
	// refusal names both key ids and the fix, and nothing changes.
	oldID, nextID := mustKey(t, env["ORGDB_ENCRYPTION_KEY"]).ID(), mustKey(t, after["ORGDB_ENCRYPTION_KEY"]).ID()
	before := dbtest.Snapshot(t, db)
	refusedKeys("orgdb keys rotate", env, "sk-stale", "keys", "set", "google", "--by", "me@acme.test")
	if _, _, errs := cliIn(t, env, "sk-stale", "keys", "set", "google", "--by", "me@acme.test"); !strings.Contains(errs, oldID) || !strings.Contains(errs, nextID) {
		t.Errorf("refusal %q does not name both key ids %s and %s", errs, oldID, nextID)
	}
	if dbtest.Snapshot(t, db) != before {
		t.Error("a refused keys set changed the database")
	}
	if code, out, _ := cli(t, after, "keys", "list"); code != 0 || !strings.Contains(out, "key "+nextID) {
		t.Errorf("keys list does not show the sealing key id %s:\n%s", nextID, out)
	}

	if code, out, _ := cli(t, env, "keys", "delete", "anthropic", "--by", "me@acme.test"); code != 0 || !strings.Contains(out, "ANTHROPIC_API_KEY") {
		t.Errorf("keys delete: %d %q", code, out)
	}
	refusedKeys("no anthropic API key is set", env, "", "keys", "delete", "anthropic", "--by", "me@acme.test")
}

func mustKey(t *testing.T, s string) seal.Key {
	t.Helper()
	k, err := seal.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEditedMigrationInStatusAndRepair(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "org.db")
	env := map[string]string{"ORGDB_DB": path}
	if code, _, errs := cli(t, env, "migrate"); code != 0 {
		t.Fatal(errs)
	}
	db, err := sql.Open("sqlite3", dbfile.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	// As if 0006 had been edited after this database applied it.
	if _, err := db.Exec(`UPDATE schema_migrations SET sha256 = 'abcdef0123456789' WHERE version = 6`); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, env, "status")
	if code != 1 || !strings.Contains(out, "EDITED since applied (was abcdef012345)") || !strings.Contains(errs, "0006_organization.sql was edited after it was applied") {
		t.Errorf("status: exit %d, stderr %q\n%s", code, errs, out)
	}
	code, _, errs = cli(t, env, "migrate")
	if code != 1 || !strings.Contains(errs, "0006_organization.sql was edited after it was applied") || strings.Count(errs, "\n") != 1 {
		t.Errorf("migrate: %d %q", code, errs)
	}
	code, out, errs = cli(t, env, "migrate", "--repair-checksums")
	if code != 0 || !strings.Contains(out, "repaired checksum of 0006_organization.sql") {
		t.Errorf("repair: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, env, "status"); code != 0 || strings.Contains(out, "EDITED") {
		t.Errorf("status after repair:\n%s", out)
	}
}

// Commands that only read never create or change a file: a typo'd path is
// an error naming it, and another application's SQLite file is refused
// byte for byte untouched, by the commands that write too.
func TestReadingChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo", "orgdb.db")
	for _, args := range [][]string{{"users", "list"}, {"invites", "list"}, {"keys", "list"}} {
		code, out, errs := cli(t, nil, append(args, "--db", typo)...)
		if code != 1 || out != "" || !strings.Contains(errs, typo) || !strings.Contains(errs, "orgdb migrate") || strings.Count(errs, "\n") != 1 {
			t.Errorf("orgdb %s on a missing file: exit %d, %q %q; want one line naming the path and orgdb migrate", strings.Join(args, " "), code, out, errs)
		}
	}
	// Every command that writes refuses a missing database as a read
	// does, in the same words: only migrate (and restore --create) creates
	// one.
	_, _, read := cli(t, nil, "users", "list", "--db", typo)
	keys := map[string]string{"ORGDB_ENCRYPTION_KEY": sealA, "ORGDB_NEW_ENCRYPTION_KEY": sealB}
	for _, args := range [][]string{
		{"users", "add", "ada@acme.test"},
		{"users", "add", "ada@acme.test", "--bypass-policy"},
		{"users", "set-role", "bob@acme.test", "admin", "--by", "me@acme.test"},
		{"users", "delete", "bob@acme.test", "--by", "me@acme.test"},
		{"invites", "create", "carol@acme.test", "--by", "me@acme.test"},
		{"invites", "revoke", "carol@acme.test", "--by", "me@acme.test"},
		{"settings", "set", "--name", "Acme", "--by", "me@acme.test"},
		{"admin", "bootstrap", "me@acme.test"},
		{"keys", "set", "anthropic", "--by", "me@acme.test"},
		{"keys", "delete", "anthropic", "--by", "me@acme.test"},
		{"keys", "rotate"},
	} {
		cmd := "orgdb " + strings.Join(args[:2], " ") + ": "
		code, out, errs := cliIn(t, keys, "sk-test", append(args, "--db", typo)...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, cmd) || strings.TrimPrefix(errs, cmd) != strings.TrimPrefix(read, "orgdb users list: ") {
			t.Errorf("orgdb %s on a missing file: exit %d, %q %q; want exit 1 and what users list says: %q", strings.Join(args, " "), code, out, errs, read)
		}
	}
	if _, err := os.Stat(filepath.Dir(typo)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a command created %s", filepath.Dir(typo))
	}

	other, unchanged := dbtest.ForeignDB(t)
	for _, args := range [][]string{{"status"}, {"users", "list"}, {"migrate"}, {"users", "add", "ada@acme.test"}} {
		if code, _, errs := cli(t, nil, append(args, "--db", other)...); code != 1 || !strings.Contains(errs, "not an orgdb database") {
			t.Errorf("orgdb %s on another application's file: exit %d, %q", strings.Join(args, " "), code, errs)
		}
	}
	unchanged()
}
