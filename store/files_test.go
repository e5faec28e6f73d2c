package store_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/store"
)

// modesChildEnv, when set to a directory, makes TestFileModesChild set the
// umask to 022 (process-wide, so in a process of its own), create a
// database under it as a deployment does, write, checkpoint, and print
// the mode of every file at each stage.
const modesChildEnv = "ORGDB_MODES_CHILD"

// TestFileModesChild is the child of TestFileModesUnderUmask022; run
// alone it does nothing.
func TestFileModesChild(t *testing.T) {
	base := os.Getenv(modesChildEnv)
	if base == "" {
		t.Skip("the child of TestFileModesUnderUmask022")
	}
	syscall.Umask(0o022)
	dir := filepath.Join(base, "data")
	path := filepath.Join(dir, "orgdb.db")
	report := func(stage string) {
		for _, p := range []string{dir, path, path + "-wal", path + "-shm", path + "-journal", filepath.Join(base, "control")} {
			if fi, err := os.Stat(p); err == nil {
				fmt.Printf("MODE %s %s %04o\n", stage, filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
	// The control: what this umask gives a file nobody made private.
	must(t, os.WriteFile(filepath.Join(base, "control"), nil, 0o666))
	must(t, privfile.MkdirAll(dir))
	st, err := store.Open(ctx, path)
	must(t, err)
	report("migrate")
	signup(t, st, "ada@acme.test")
	report("write")
	exec(t, st.DB(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	report("checkpoint")
	must(t, st.Close())
	report("close")
}

// Under umask 022, the database directory is 0700 and the database, its
// -wal and -shm files 0600, after the migration, a write and a WAL
// checkpoint. (A backup's copy is made with privfile.Create; its test
// belongs beside store.Backup.)
func TestFileModesUnderUmask022(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-test.run=^TestFileModesChild$", "-test.v")
	cmd.Env = append(os.Environ(), modesChildEnv+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "MODE" {
			continue
		}
		stage, name := f[1], f[2]
		m, err := strconv.ParseUint(f[3], 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		seen[stage+" "+name] = true
		want := fs.FileMode(0o600)
		switch name {
		case "data":
			want = 0o700
		case "control":
			want = 0o644
		}
		if fs.FileMode(m) != want {
			t.Errorf("after %s: %s has mode %04o, want %04o", stage, name, m, want)
		}
	}
	for _, s := range []string{"migrate data", "migrate orgdb.db", "migrate orgdb.db-wal", "migrate orgdb.db-shm", "write orgdb.db-wal", "checkpoint orgdb.db-shm", "close orgdb.db", "migrate control"} {
		if !seen[s] {
			t.Errorf("the child did not report %s:\n%s", s, out)
		}
	}
}

// warnings opens the database at path with a logger and returns the
// warnings it logged.
func warnings(t *testing.T, path string, opts ...store.Option) []string {
	t.Helper()
	var got []string
	log := slog.New(handlerFunc(func(r slog.Record) {
		if r.Level == slog.LevelWarn {
			got = append(got, r.Message)
		}
	}))
	st, err := store.Open(ctx, path, append(opts, store.WithLogger(log))...)
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.Close())
	return got
}

// An existing database or directory that group or others can access gets
// one warning per Open, which names the files and the chmod that fixes
// them; a private one gets none.
func TestOpenWarnsAboutOpenModes(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	if w := warnings(t, path); len(w) != 0 {
		t.Fatalf("a new private database: warned %q", w)
	}
	dir := filepath.Dir(path)
	must(t, os.Chmod(dir, 0o755))
	must(t, os.Chmod(path, 0o644))
	var last string
	for _, opts := range [][]store.Option{nil, {store.ReadOnly()}} {
		var w []string
		if opts == nil {
			w = warnings(t, path)
		} else {
			log := slog.New(handlerFunc(func(r slog.Record) { w = append(w, r.Message) }))
			st, err := store.Open(ctx, path, append(opts, store.WithLogger(log))...)
			must(t, err)
			must(t, st.Close())
		}
		want := "chmod 700 " + dir + " && chmod 600 " + path
		if len(w) != 1 || !strings.Contains(w[0], want) || !strings.Contains(w[0], "(0644)") {
			t.Fatalf("warned %q, want once: %s", w, want)
		}
		last = w[0]
	}
	// The command the warning names fixes every file it found.
	_, fix, _ := strings.Cut(last, ": run ")
	if out, err := osexec.Command("sh", "-c", fix).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", fix, err, out)
	}
	if w := warnings(t, path); len(w) != 0 {
		t.Errorf("after the fix: warned %q", w)
	}
}

// Open does not create the directory; its refusal says how to, private.
func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := store.Open(ctx, filepath.Join(dir, "orgdb.db"))
	if err == nil || !strings.Contains(err.Error(), "mkdir -m 700 "+dir) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the directory was created: %v", err)
	}
}
