package privfile_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/agentops/orgdb/internal/privfile"
)

// The umask is process-wide: it is set here, before any test runs, to the
// usual 022 under which SQLite and os.Mkdir would make files readable by
// everyone.
func TestMain(m *testing.M) {
	syscall.Umask(0o022)
	os.Exit(m.Run())
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestMkdirAllCreatesPrivateDirectories(t *testing.T) {
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "a", "b c", "data")
	if err := privfile.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(base, "a"), filepath.Join(base, "a", "b c"), dir} {
		if m := mode(t, d); m != 0o700 {
			t.Errorf("%s: mode %04o, want 0700", d, m)
		}
	}
	if m := mode(t, base); m != 0o755 {
		t.Errorf("an existing parent was changed to %04o", m)
	}
	if err := privfile.MkdirAll(dir); err != nil {
		t.Errorf("again: %v", err)
	}
	// A file in the way is an error.
	f := filepath.Join(base, "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := privfile.MkdirAll(filepath.Join(f, "sub")); err == nil {
		t.Error("MkdirAll under a file succeeded")
	}
}

func TestCreateIsPrivateAndExclusive(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "backup.db")
	f, err := privfile.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("Create: mode %04o, want 0600", m)
	}
	if _, err := privfile.Create(p); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an existing file: %v, want fs.ErrExist", err)
	}
	// EnsureFile leaves an existing file (and its mode) alone.
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := privfile.EnsureFile(p); err != nil || mode(t, p) != 0o640 {
		t.Errorf("EnsureFile on an existing file: %v, mode %04o", err, mode(t, p))
	}
	q := filepath.Join(dir, "new.db")
	if err := privfile.EnsureFile(q); err != nil || mode(t, q) != 0o600 {
		t.Errorf("EnsureFile: %v, mode %04o", err, mode(t, q))
	}
	tmp, err := privfile.CreateTemp(dir, "restore-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, tmp.Name()); m != 0o600 {
		t.Errorf("CreateTemp: mode %04o", m)
	}
	// The control: under this umask a plain create is readable by all.
	c := filepath.Join(dir, "control")
	if err := os.WriteFile(c, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, c); m != 0o644 {
		t.Fatalf("control file mode %04o: the umask is not 022", m)
	}
}

func TestCheckAndFix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data")
	if err := privfile.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "orgdb.db")
	if err := privfile.EnsureFile(db); err != nil {
		t.Fatal(err)
	}
	if f := privfile.Check(db); len(f) != 0 {
		t.Fatalf("private files reported: %+v", f)
	}
	if privfile.Describe(nil) != "" {
		t.Error("Describe(nil) is not empty")
	}
	for p, m := range map[string]fs.FileMode{dir: 0o750, db: 0o640, db + "-wal": 0o604} {
		if p == db+"-wal" {
			if err := os.WriteFile(p, nil, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	f := privfile.Check(db)
	if len(f) != 3 || !f[0].Dir || f[0].Mode != 0o750 || f[1].Path != db || f[2].Mode != 0o604 {
		t.Fatalf("Check = %+v", f)
	}
	q := "'" + dir
	want := "chmod 700 " + q + "' && chmod 600 " + q + "/orgdb.db' " + q + "/orgdb.db-wal'"
	if got := privfile.Fix(f); got != want {
		t.Errorf("Fix = %s\nwant  %s", got, want)
	}
	if d := privfile.Describe(f); !strings.Contains(d, "(0640)") || !strings.HasSuffix(d, want) {
		t.Errorf("Describe = %s", d)
	}
	// The command it gives fixes them.
	if out, err := exec.Command("sh", "-c", privfile.Fix(f)).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", privfile.Fix(f), err, out)
	}
	if f := privfile.Check(db); len(f) != 0 {
		t.Errorf("after running the fix: %+v", f)
	}
}
