package backup_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// writePairs adds pairs (addPair) numbered from start+1 from four
// goroutines until stop is called; stop returns the first error. ready is
// closed once readyAfter pairs are committed, or at the first error (which
// stop then returns), so a caller waiting on it never waits forever.
func writePairs(ctx context.Context, d *sql.DB, start, readyAfter int64) (ready <-chan struct{}, stop func() error) {
	var next, committed atomic.Int64
	next.Store(start)
	r, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := dbtest.AddPair(ctx, d, int(next.Add(1))); err != nil {
					errs <- err
					once.Do(func() { close(r) })
					return
				}
				if committed.Add(1) >= readyAfter {
					once.Do(func() { close(r) })
				}
			}
		})
	}
	return r, func() error {
		close(done)
		wg.Wait()
		close(errs)
		return <-errs
	}
}

// integrityOK fails t unless PRAGMA integrity_check on path says ok.
func integrityOK(t *testing.T, path string) {
	t.Helper()
	got := dbtest.Strings(t, dbtest.ReadOnly(t, path), `PRAGMA integrity_check`)
	if !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("integrity_check of %s: %q", path, got)
	}
}

// filled opens a store on a new file holding n pairs.
func filled(t *testing.T, n int, opts ...store.Option) (*store.Store, string) {
	t.Helper()
	path := dbtest.Path(t)
	st, err := store.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	for i := range n {
		if err := dbtest.AddPair(context.Background(), st.DB(), i); err != nil {
			t.Fatal(err)
		}
	}
	return st, path
}

// Commits made between the steps of a backup are not in it: the copy is
// the snapshot of the instant it started, taken in many steps.
func TestBackupIsOneSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := filled(t, 2000)
	other, err := store.Open(ctx, path) // another writer on the file
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	to := filepath.Join(t.TempDir(), "b.db")
	steps, next := 0, 2000
	var last, total int64
	_, err = backup.FromStore(ctx, st, to, backup.WithBackupStep(2), backup.WithProgress(func(done, tot int64) {
		steps++
		last, total = done, tot
		if err := dbtest.AddPair(ctx, other.DB(), next); err != nil {
			t.Error(err)
		}
		next++
	}))
	if err != nil {
		t.Fatal(err)
	}
	if steps < 10 || last != total || total == 0 {
		t.Fatalf("%d progress calls, last %d of %d bytes: want many steps ending at the total", steps, last, total)
	}
	if u, i := dbtest.Pairs(t, to); u != 2000 || i != 2000 {
		t.Fatalf("backup holds %d users and %d invites, want the 2000 of each committed before it started", u, i)
	}
	if u, _ := dbtest.Pairs(t, path); u != next {
		t.Fatalf("the database holds %d users, want %d", u, next)
	}
	integrityOK(t, to)
	// The copy stands alone: a rollback-journal file, nothing beside it.
	var mode string
	if err := dbtest.ReadOnly(t, to).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("backup journal mode %q (%v), want delete", mode, err)
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(to), "*"))
	if err != nil || !slices.Equal(left, []string{to}) {
		t.Fatalf("backup directory holds %q (%v), want the backup alone", left, err)
	}
}

// A backup taken while several goroutines write through another store on
// the file is whole: every transaction is in it entirely or not at all.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := filled(t, 500)
	other, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, stop := writePairs(ctx, other.DB(), 500, 1)
	dir := t.TempDir()
	for k := range 5 {
		to := filepath.Join(dir, fmt.Sprintf("b%d.db", k))
		if _, err := backup.FromStore(ctx, st, to, backup.WithBackupStep(3)); err != nil {
			t.Fatal(err)
		}
		integrityOK(t, to)
		if u, i := dbtest.Pairs(t, to); u != i || u < 500 {
			t.Errorf("backup %d holds %d users and %d invites: want equal counts, at least 500", k, u, i)
		}
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// An existing file is refused, unchanged, unless Overwrite is given; the
// database itself and a directory are refused.
func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := filled(t, 3)
	to := filepath.Join(t.TempDir(), "b.db")
	if err := os.WriteFile(to, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := backup.FromStore(ctx, st, to)
	var oe *orgdb.Error
	if !errors.As(err, &oe) || oe.Code != orgdb.CodeConflict || oe.Reason != backup.ReasonBackupExists || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("backup over an existing file: %v, want CONFLICT backup_exists naming --force", err)
	}
	if b, err := os.ReadFile(to); err != nil || string(b) != "keep me" {
		t.Fatalf("the existing file became %q (%v)", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(to), "*")); len(left) != 1 {
		t.Fatalf("a refused backup left %q", left)
	}
	info, err := backup.FromStore(ctx, st, to, backup.Overwrite())
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := dbtest.Pairs(t, to); u != 3 || info.Bytes == 0 || info.Path != to {
		t.Fatalf("overwritten backup: %d users, info %+v", u, info)
	}
	for _, bad := range []string{path, filepath.Dir(to), ""} {
		_, err := backup.FromStore(ctx, st, bad, backup.Overwrite())
		if !errors.As(err, &oe) || oe.Code != orgdb.CodeValidation {
			t.Errorf("backup to %q: %v, want VALIDATION_ERROR", bad, err)
		}
	}
	if u, _ := dbtest.Pairs(t, path); u != 3 {
		t.Fatalf("the database holds %d users after the refusals, want 3", u)
	}
}

// backupWithUmask is the "backup" action of a child process (xprocChild):
// arg is "UMASK TARGET" (octal umask). The umask is the process's, so only
// a child can set it without racing other tests.
func backupWithUmask(ctx context.Context, st *store.Store, arg string) error {
	m, target, _ := strings.Cut(arg, " ")
	mask, err := strconv.ParseUint(m, 8, 32)
	if err != nil {
		return err
	}
	syscall.Umask(int(mask))
	_, err = backup.FromStore(ctx, st, target)
	return err
}

// The backup file is its owner's only (0600) and so is a directory
// Backup creates (0700), whatever the umask.
func TestBackupModes(t *testing.T) {
	t.Parallel()
	_, path := filled(t, 1)
	for _, mask := range []string{"022", "000", "077"} {
		dir := filepath.Join(t.TempDir(), "new", "backups")
		to := filepath.Join(dir, "b.db")
		if got := xprocRun(t, "backup", path, []string{mask + " " + to}); !slices.Equal(got, []string{"ok"}) {
			t.Fatalf("umask %s: child reported %q", mask, got)
		}
		for p, want := range map[string]fs.FileMode{to: 0o600, dir: 0o700, filepath.Dir(dir): 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("umask %s: %s has mode %v, want %v", mask, p, fi.Mode().Perm(), want)
			}
		}
		integrityOK(t, to)
	}
}

// holdOpen starts a process that opens the store at path and keeps it
// open until release is called. It returns the process's pid.
func holdOpen(t *testing.T, path string) (pid int, release func()) {
	t.Helper()
	return child(t, "hold", path)
}

// child starts a process running action on path (see xprocChild), waits
// until it is ready and returns its pid and the function that releases it
// and checks that it reported ok.
func child(t *testing.T, action, path string) (pid int, release func()) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), xprocEnv+"="+action+" "+path+" -")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("holding process did not get ready: %q (stderr: %s)", out.Text(), stderr.String())
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			in.Close()
			if !out.Scan() || out.Text() != "ok" {
				t.Errorf("holding process reported %q (stderr: %s)", out.Text(), stderr.String())
			}
			_, _ = io.Copy(io.Discard, stdout)
			if err := cmd.Wait(); err != nil {
				t.Errorf("holding process: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return cmd.Process.Pid, release
}

// dirState is every file of dir with its bytes, for "nothing changed".
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameDir fails t unless dir holds exactly the files of before.
func sameDir(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := dirState(t, dir)
	if !maps.Equal(before, after) {
		t.Fatalf("a refused restore changed %s: files %v → %v (or their bytes)",
			dir, slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
}

// backupOf writes a backup of a new database of n pairs and returns its path.
func backupOf(t *testing.T, n int) string {
	t.Helper()
	st, _ := filled(t, n)
	to := filepath.Join(t.TempDir(), "b.db")
	if _, err := backup.FromStore(context.Background(), st, to); err != nil {
		t.Fatal(err)
	}
	return to
}

// Restore refuses while another process has the database open, naming it
// and changing nothing; once that process is gone it swaps the backup in
// and keeps the previous file.
func TestRestoreRefusesWhileOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := backupOf(t, 7)
	path := dbtest.Closed(t, 3)
	pid, release := holdOpen(t, path)
	before := dirState(t, filepath.Dir(path))
	_, err := backup.Restore(ctx, path, from)
	var oe *orgdb.Error
	if !errors.As(err, &oe) || oe.Code != orgdb.CodeConflict || oe.Reason != backup.ReasonInUse {
		t.Fatalf("restore while process %d holds the database: %v, want CONFLICT in_use", pid, err)
	}
	for _, want := range []string{"process " + strconv.Itoa(pid), "stop it first", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	sameDir(t, filepath.Dir(path), before)
	release()
	ino := inode(t, path)
	info, err := backup.Restore(ctx, path, from)
	if err != nil {
		t.Fatal(err)
	}
	if u, i := dbtest.Pairs(t, path); u != 7 || i != 7 {
		t.Fatalf("restored database holds %d users and %d invites, want the backup's 7", u, i)
	}
	integrityOK(t, path)
	if !strings.HasPrefix(info.Previous, path+".bak-") {
		t.Fatalf("previous database kept as %q: want %s.bak-<timestamp>", info.Previous, path)
	}
	if u, _ := dbtest.Pairs(t, info.Previous); u != 3 {
		t.Fatalf("the kept database holds %d users, want 3", u)
	}
	integrityOK(t, info.Previous)
	if inode(t, path) != ino {
		t.Fatalf("the restore replaced the file %s (inode %d → %d): a connection opened before it would write to the old one", path, ino, inode(t, path))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v; want mode 0600", err)
	}
	// The restored file opens, and the service runs on it as usual.
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 7 {
		t.Fatalf("CountUsers after restore: %d, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// Restoring a file that is not a sound orgdb database this binary can run
// is refused, naming what is wrong, and changes nothing.
func TestRestoreRefusesBadBackups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	edit := func(stmt string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			d := dbtest.Raw(t, path)
			if _, err := d.Exec(stmt); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"edited checksum", edit(`UPDATE schema_migrations SET sha256 = 'x' WHERE version = 1`), "not this binary's file"},
		{"newer orgdb", edit(`INSERT INTO schema_migrations VALUES (9999, 'from_the_future', 'x', '2030-01-01 00:00:00')`), "newer orgdb"},
		// The records say every migration is applied; the schema says not.
		{"dropped table", edit(`DROP TABLE sealing_kdf`), "table sealing_kdf is missing"},
		{"extra index", edit(`CREATE INDEX by_hand ON users (updated_at)`), "index by_hand is not orgdb's"},
		{"changed trigger", func(t *testing.T, path string) {
			d := dbtest.Raw(t, path)
			var name, text string
			if err := d.QueryRow(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name LIMIT 1`).Scan(&name, &text); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Exec(`DROP TRIGGER ` + name + `; ` + strings.Replace(text, "BEGIN", "BEGIN SELECT 1;", 1)); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		}, "differs"},
		{"truncated", func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "cannot be restored"},
		{"damaged page", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The b-tree header of a page in the middle of the file.
			fi, err := f.Stat()
			if err == nil {
				_, err = f.WriteAt([]byte{0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42}, fi.Size()/4096/2*4096)
			}
			if err = errors.Join(err, f.Close()); err != nil {
				t.Fatal(err)
			}
		}, "cannot be restored"},
		{"not SQLite", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "cannot be restored"},
		{"another application's", func(t *testing.T, path string) {
			foreign, _ := dbtest.ForeignDB(t)
			if err := os.WriteFile(path, []byte(readFile(t, foreign)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not an orgdb database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			from := backupOf(t, 300)
			c.make(t, from)
			path := dbtest.Closed(t, 3)
			before := dirState(t, filepath.Dir(path))
			_, err := backup.Restore(ctx, path, from)
			var oe *orgdb.Error
			if !errors.As(err, &oe) || oe.Code != orgdb.CodeValidation || oe.Reason != backup.ReasonBadBackup {
				t.Fatalf("restore from a %s file: %v, want VALIDATION_ERROR bad_backup", c.name, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("refusal %q: want it to say %q and that nothing was changed", err, c.want)
			}
			sameDir(t, filepath.Dir(path), before)
		})
	}
}

// An older backup (a migration pending) is restored into a path with no
// database yet, and says how many migrations the next Open applies.
func TestRestoreOlderBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := filepath.Join(t.TempDir(), "old.db")
	ms, err := schema.Load(schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	d := dbtest.Raw(t, old)
	if _, err := schema.Migrate(ctx, d, schema.UpTo(schema.FS(), ms[len(ms)-2].Version)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "new", "orgdb.db")
	// A missing database is a mistyped path unless CreateNew says otherwise.
	_, err = backup.Restore(ctx, path, old)
	var oe *orgdb.Error
	if !errors.As(err, &oe) || oe.Code != orgdb.CodeNotFound || oe.Reason != store.ReasonNoDatabase || !strings.Contains(err.Error(), "--create") {
		t.Fatalf("restore to a missing database: %v, want NOT_FOUND no_database naming --create", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused restore created %s: %v", filepath.Dir(path), err)
	}
	info, err := backup.Restore(ctx, path, old, backup.CreateNew())
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending != 1 || info.Previous != "" {
		t.Fatalf("restore of a backup one migration behind: %+v, want Pending 1 and no previous file", info)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory restore created: %v; want mode 0700", err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeLoop is the "writeloop" action of a child process: it adds pairs
// from several goroutines, says it is ready once some are committed, and
// stops when released.
func writeLoop(ctx context.Context, path string, wait func(), report func(error) int) int {
	st, err := store.Open(ctx, path)
	if err != nil {
		return report(err)
	}
	ready, stop := writePairs(ctx, st.DB(), 1_000_000, 50)
	<-ready
	wait()
	return report(errors.Join(stop(), st.Close()))
}

// File copies a database another process is writing: every copy is
// sound and holds whole transactions only.
func TestBackupFileWhileAnotherProcessWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.Closed(t, 100)
	_, release := child(t, "writeloop", path)
	dir := t.TempDir()
	sizes := map[int]bool{}
	for k := range 3 {
		to := filepath.Join(dir, fmt.Sprintf("b%d.db", k))
		if _, err := backup.File(ctx, path, to); err != nil {
			t.Fatal(err)
		}
		integrityOK(t, to)
		u, i := dbtest.Pairs(t, to)
		if u != i || u < 150 {
			t.Errorf("backup %d holds %d users and %d invites: want equal counts, over 150", k, u, i)
		}
		sizes[u] = true
	}
	release()
	if len(sizes) < 2 {
		t.Errorf("the three backups hold the same number of users %v: the other process was not writing during them", sizes)
	}
	// A missing file and another application's are refused.
	var oe *orgdb.Error
	if _, err := backup.File(ctx, filepath.Join(dir, "nope.db"), filepath.Join(dir, "x.db")); !errors.As(err, &oe) || oe.Reason != store.ReasonNoDatabase {
		t.Errorf("backup of a missing file: %v, want NOT_FOUND no_database", err)
	}
	foreign, unchanged := dbtest.ForeignDB(t)
	if _, err := backup.File(ctx, foreign, filepath.Join(dir, "x.db")); !errors.As(err, &oe) || oe.Reason != store.ReasonNotOrgdb {
		t.Errorf("backup of another application's file: %v, want VALIDATION_ERROR not_orgdb", err)
	}
	unchanged()
}

// inode is the inode number of the file at path.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no inode numbers here")
	}
	return st.Ino
}
