package backup_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// A backup with --force onto a database in use is refused, whichever
// database it is: one another process has open, or one with a -wal or
// -shm beside it (flags swapped by mistake). The database keeps every
// write.
func TestBackupRefusesALiveTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := dbtest.Closed(t, 4)
	live := dbtest.Closed(t, 9)
	_, release := holdOpen(t, live)
	before := dirState(t, filepath.Dir(live))
	delete(before, filepath.Base(live)+"-shm") // readers change its bytes
	_, err := backup.File(ctx, src, live, backup.Overwrite())
	wantRefusal(t, "backup --force onto a database another process has open", err, orgdb.CodeConflict, backup.ReasonLiveDatabase, "did you mean --db", "nothing was written")
	release()
	if u, i := dbtest.Pairs(t, live); u != 9 || i != 9 {
		t.Fatalf("the live database holds %d users, %d invites after the refusal, want 9", u, i)
	}
	integrityOK(t, live)

	// Nobody has it open, but a -wal is beside it: writes not in the file.
	stale := dbtest.Closed(t, 5)
	if err := os.WriteFile(stale+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before = dirState(t, filepath.Dir(stale))
	_, err = backup.File(ctx, src, stale, backup.Overwrite())
	wantRefusal(t, "backup --force onto a database with a -wal", err, orgdb.CodeConflict, backup.ReasonLiveDatabase, "-wal", "nothing was written")
	sameDir(t, filepath.Dir(stale), before)

	// An old backup, closed and alone, is replaced with --force.
	old := filepath.Join(t.TempDir(), "old.db")
	if _, err := backup.File(ctx, live, old); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.File(ctx, src, old, backup.Overwrite()); err != nil {
		t.Fatal(err)
	}
	if u, _ := dbtest.Pairs(t, old); u != 4 {
		t.Fatalf("the replaced backup holds %d users, want 4", u)
	}
}

// oddFiles makes, in a new directory, a FIFO, a socket, a directory and
// (as root) a character device, and returns their paths by kind.
func oddFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{"fifo": filepath.Join(dir, "fifo.db"), "dir": filepath.Join(dir, "dir.db"), "socket": filepath.Join(dir, "sock.db")}
	if err := syscall.Mkfifo(out["fifo"], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(out["dir"], 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", out["socket"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if os.Geteuid() == 0 {
		out["device"] = filepath.Join(dir, "null.db")
		if err := syscall.Mknod(out["device"], syscall.S_IFCHR|0o600, 1<<8|3); err != nil { // 1,3: /dev/null
			t.Fatal(err)
		}
	}
	return out
}

// within fails t if f does not return within a minute (it blocked, as an
// open of a FIFO does) and returns its error.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s: still blocked after a minute", what)
		return nil
	}
}

// Only regular files are read or replaced: a FIFO (whose open would block
// forever), a socket, a directory or a device as --from, --to or --db is
// refused with VALIDATION_ERROR not_regular_file, at once, and stays what
// it was.
func TestOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := backupOf(t, 3)
	db := dbtest.Closed(t, 2)
	for kind, p := range oddFiles(t) {
		before, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		for what, f := range map[string]func() error{
			"restore --from": func() error { _, err := backup.Restore(ctx, db, p); return err },
			"restore --db":   func() error { _, err := backup.Restore(ctx, p, from, backup.CreateNew()); return err },
			"backup --to":    func() error { _, err := backup.File(ctx, db, p, backup.Overwrite()); return err },
			"backup --db":    func() error { _, err := backup.File(ctx, p, filepath.Join(t.TempDir(), "b.db")); return err },
			"open": func() error {
				st, err := store.Open(ctx, p)
				if err == nil {
					st.Close()
				}
				return err
			},
		} {
			err := within(t, what+" "+kind, f)
			wantRefusal(t, what+" "+kind, err, orgdb.CodeValidation, dbfile.ReasonNotRegularFile, "regular file", "nothing was changed")
			after, err := os.Lstat(p)
			if err != nil || after.Mode() != before.Mode() {
				t.Fatalf("%s %s: the %s became %v (%v)", what, kind, kind, after.Mode(), err)
			}
		}
	}
	if u, _ := dbtest.Pairs(t, db); u != 2 {
		t.Fatalf("the database holds %d users after the refusals, want 2", u)
	}
}

// A restore through a symbolic link restores the database it points to;
// the link stays a link.
func TestRestoreThroughASymlink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := backupOf(t, 6)
	real := dbtest.Closed(t, 2)
	link := filepath.Join(t.TempDir(), "orgdb.db")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	info, err := backup.Restore(ctx, link, from)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link %s is no longer a link: %v", link, err)
	}
	if u, _ := dbtest.Pairs(t, real); u != 6 {
		t.Fatalf("the database the link points to holds %d users, want the backup's 6", u)
	}
	if info.Path != real || filepath.Dir(info.Previous) != filepath.Dir(real) {
		t.Fatalf("restore info %+v: want the real path %s, the previous copy beside it", info, real)
	}
}

// A temporary copy left by a killed backup is listed by StaleCopies and
// removed by the next backup to that path; one a running process holds
// (its flock) is neither.
func TestStaleCopiesAreSwept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Closed(t, 2)
	to := filepath.Join(t.TempDir(), "b.db")
	stale := to + ".partial-backup-111"
	held := to + ".partial-backup-222"
	for _, p := range []string{stale, held} {
		if err := os.WriteFile(p, []byte("half a copy"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(held)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if got := backup.StaleCopies(to); len(got) != 1 || got[0] != stale {
		t.Fatalf("StaleCopies = %q, want only %s", got, stale)
	}
	if _, err := backup.File(ctx, db, to); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the next backup left %s: %v", stale, err)
	}
	if _, err := os.Stat(held); err != nil {
		t.Fatalf("the next backup removed a copy another process holds: %v", err)
	}
}
