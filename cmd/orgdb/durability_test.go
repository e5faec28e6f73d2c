package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A backup restored over the database replaces it and keeps the previous
// file; the file written by backup is private to its owner.
func TestRestoreCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"ORGDB_DB": filepath.Join(dir, "org.db")}
	org(t, env)
	b := filepath.Join(dir, "backups", "b.db")
	must(t, env, "", "backup", "--to", b)
	for p, want := range map[string]os.FileMode{b: 0o600, filepath.Dir(b): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, want mode %v", p, err, want)
		}
	}
	must(t, env, "", "users", "add", "dan@acme.test", "--bypass-policy")
	code, out, errs := cli(t, env, "restore", "--from", b)
	if code != 0 || errs != "" || !strings.Contains(out, "the previous database is kept as "+env["ORGDB_DB"]+".bak-") {
		t.Fatalf("restore: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	code, out, _ = cli(t, env, "users", "list")
	if code != 0 || strings.Contains(out, "dan@acme.test") || !strings.Contains(out, "bob@acme.test") {
		t.Fatalf("users after restore: exit %d\n%s", code, out)
	}
}
