package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/agentops/orgdb/dbfile"
)

// hostile is org plus rows written around the store (as an older version,
// or another tool, could have): a user whose name holds a line break that
// would print a fake row and an ESC sequence that would clear the screen,
// whose email holds a right-to-left override, and who set a key and sent
// an invite to an address with a bell in it.
func hostile(t *testing.T, env map[string]string) {
	orgKey(t, env)
	raw, err := sql.Open("sqlite3", dbfile.DSN(env["ORGDB_DB"]))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		"INSERT INTO users (id, email, name, role) VALUES ('evil\x1b[31m', 'eve\u202e@acme.test', 'Eve\nroot@acme.test  admin  Root\x1b[2J', 'admin')",
		"UPDATE org_api_keys SET set_by = 'evil\x1b[31m'",
		"INSERT INTO invites (id, email, role, invited_by, expires_at) VALUES ('inv\x1b]0;pwned\x07', 'x\x07@acme.test', 'member', 'evil\x1b[31m', '2999-01-01 00:00:00')",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%q: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawControl is the first character of s a terminal would act on: a control
// character other than a line break, or a bidirectional control.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Cf, r) {
			return r, true
		}
	}
	return 0, false
}

// Nothing the CLI prints from the database reaches the terminal raw: the
// tables show such values quoted with Go's escapes, one row per row, and
// no command prints a control character or a bidirectional control.
func TestCLIEscapesWhatItPrints(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	hostile(t, env)
	for _, c := range []struct {
		args []string
		want []string // in stdout
	}{
		{[]string{"users", "list"}, []string{`"Eve\nroot@acme.test  admin  Root\x1b[2J"`, `"eve\u202e@acme.test"`, `"evil\x1b[31m"`}},
		{[]string{"invites", "list"}, []string{`"x\a@acme.test"`, `"inv\x1b]0;pwned\a"`}},
		{[]string{"keys", "list"}, []string{`"eve\u202e@acme.test"`}},
		{[]string{"admin", "bootstrap", "bob@acme.test"}, []string{`"eve\u202e@acme.test"`}},
		{[]string{"users", "list", "--json"}, []string{`"name": "Eve\nroot@acme.test  admin  Root\u001b[2J"`}},
	} {
		code, out, errs := cli(t, env, c.args...)
		if code != 0 || errs != "" {
			t.Errorf("orgdb %s: exit %d, stderr %q", strings.Join(c.args, " "), code, errs)
			continue
		}
		if r, bad := rawControl(out); bad {
			t.Errorf("orgdb %s printed %U raw:\n%s", strings.Join(c.args, " "), r, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("orgdb %s: stdout lacks %s:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "root@acme.test") {
				t.Errorf("orgdb %s printed a fake row: %q", strings.Join(c.args, " "), line)
			}
		}
	}
}

// The escaped JSON is the same value: a script reads the name as stored.
func TestCLIJSONEscapesKeepTheValue(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	hostile(t, env)
	code, out, errs := cli(t, env, "users", "list", "--json")
	var users []struct {
		Email string  `json:"email"`
		Name  *string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &users); code != 0 || errs != "" || err != nil {
		t.Fatalf("exit %d, stderr %q, %v", code, errs, err)
	}
	if len(users) != 3 || users[2].Email != "eve\u202e@acme.test" || *users[2].Name != "Eve\nroot@acme.test  admin  Root\x1b[2J" {
		t.Errorf("decoded %+v", users)
	}
}

// An error line escapes what a terminal would act on, wherever it came
// from.
func TestErrorLineIsEscaped(t *testing.T) {
	t.Parallel()
	err := errors.New("user \x1b[2Jeve\u202e@acme.test\nnot found\a")
	got := oneLine(err)
	if got != `user \x1b[2Jeve\u202e@acme.test not found\a` {
		t.Errorf("oneLine = %q", got)
	}
	var stderr strings.Builder
	code := run(context.Background(), []string{"--db", "\x1b[2J.db", "users", "list"}, func(string) string { return "" }, strings.NewReader(""), &strings.Builder{}, &stderr)
	if r, bad := rawControl(stderr.String()); code != 1 || bad {
		t.Errorf("exit %d, stderr %q (raw %U)", code, stderr.String(), r)
	}
}
