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

// A copy left beside the database by a killed restore is named by status
// (a warning: exit 0) and removed by the next restore; restore's errors
// say "restore".
func TestStatusNamesLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"ORGDB_DB": filepath.Join(dir, "org.db")}
	org(t, env)
	b := filepath.Join(dir, "b.db")
	must(t, env, "", "backup", "--to", b)
	left := env["ORGDB_DB"] + ".partial-restore-12345"
	if err := os.WriteFile(left, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, env, "status")
	if code != 0 || !strings.Contains(out, left) || !strings.Contains(out, "killed") {
		t.Fatalf("status with a leftover copy: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	must(t, env, "", "restore", "--from", b)
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the restore did not remove %s: %v", left, err)
	}
	code, out, _ = cli(t, env, "status")
	if code != 0 || strings.Contains(out, "partial-") {
		t.Fatalf("status after the restore: exit %d\n%s", code, out)
	}
	// A restore's own failure says so, not "backup".
	if err := os.WriteFile(b, []byte(strings.Repeat("x", 8192)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = cli(t, env, "restore", "--from", b)
	if code != 1 || !strings.Contains(errs, "restore") || strings.Contains(errs, "backup:") {
		t.Fatalf("restore of a damaged file: exit %d, stderr %q: want a refusal that says restore", code, errs)
	}
}
