package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// orgdb runs the CLI in-process with the given environment.
func orgdb(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMigrateAndStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "orgdb.db")
	code, out, errs := orgdb(t, nil, "status", "--db", path)
	if code != 0 || !strings.Contains(out, "0001_initial.sql") || !strings.Contains(out, "pending") || errs != "" {
		t.Fatalf("status before migrate: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("status created the database file")
	}

	code, out, errs = orgdb(t, nil, "migrate", "--db", path)
	if code != 0 || errs != "" {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	for _, want := range []string{"applied 0001_initial.sql", "applied 0006_organization.sql", "VERSION", "0006  "} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = orgdb(t, nil, "status", "--db", path)
	if code != 0 || strings.Contains(out, "pending") || strings.Count(out, "applied") < 3 {
		t.Errorf("status after migrate:\n%s", out)
	}
	code, out, _ = orgdb(t, nil, "migrate", "--db", path)
	if code != 0 || !strings.Contains(out, "is up to date") {
		t.Errorf("second migrate: %d\n%s", code, out)
	}
}

func TestDatabaseFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.db")
	if code, _, errs := orgdb(t, map[string]string{"ORGDB_DB": path}, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("ORGDB_DB not used: %v", err)
	}
	// --db wins over ORGDB_DB.
	other := filepath.Join(t.TempDir(), "flag.db")
	orgdb(t, map[string]string{"ORGDB_DB": path}, "migrate", "--db", other)
	if _, err := os.Stat(other); err != nil {
		t.Errorf("--db not used: %v", err)
	}
}

func TestDefaultDatabase(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, errs := orgdb(t, nil, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if _, err := os.Stat(DefaultDB); err != nil {
		t.Errorf("default database not created: %v", err)
	}
}

func TestUsageAndFailures(t *testing.T) {
	if code, out, _ := orgdb(t, nil, "--help"); code != 0 || !strings.Contains(out, "migrate") || !strings.Contains(out, "status") {
		t.Errorf("--help: %d %q", code, out)
	}
	if code, _, _ := orgdb(t, nil); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	if code, _, errs := orgdb(t, nil, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, _, errs := orgdb(t, nil, "migrate", "--bogus"); code != 2 || errs == "" {
		t.Errorf("unknown flag: %d %q", code, errs)
	}
	if code, _, errs := orgdb(t, nil, "status", "extra"); code != 2 || errs == "" {
		t.Errorf("extra argument: %d %q", code, errs)
	}
	// A database that cannot be created: exit 1 and one line saying why.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o644)
	code, _, errs := orgdb(t, nil, "migrate", "--db", filepath.Join(blocker, "orgdb.db"))
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "orgdb migrate: ") {
		t.Errorf("uncreatable database: %d %q", code, errs)
	}
	// A file that is not a database.
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 100), 0o644)
	code, _, errs = orgdb(t, nil, "migrate", "--db", junk)
	if code != 1 || strings.Count(errs, "\n") != 1 {
		t.Errorf("junk database: %d %q", code, errs)
	}
}
