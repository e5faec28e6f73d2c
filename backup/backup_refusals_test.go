package backup_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// wantRefusal is dbtest.WantRefusal.
var wantRefusal = dbtest.WantRefusal

// A backup never replaces the database's -wal, -shm or -journal file (by
// name, or under another name), which would lose committed data; nor does
// a restore take them, or give them, as the backup.
func TestBackupRefusesTheDatabasesFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := filled(t, 3, store.WithExternalCheckpoints()) // the -wal stays as it is
	dir := filepath.Dir(path)
	alias := filepath.Join(t.TempDir(), "alias-of-wal")
	if err := os.Link(path+"-wal", alias); err != nil {
		t.Fatal(err)
	}
	// The -shm's bytes change as readers come and go: the files, the
	// database's and the -wal's bytes must not.
	state := func() map[string]string {
		s := dirState(t, dir)
		s[filepath.Base(path)+"-shm"] = ""
		return s
	}
	for _, to := range []string{path + "-wal", path + "-shm", path + "-journal", alias} {
		before := state()
		_, err := backup.FromStore(ctx, st, to, backup.Overwrite())
		wantRefusal(t, "backup to "+to, err, orgdb.CodeValidation, "", "-wal, -shm, -journal", "nothing was written")
		_, err = backup.File(ctx, path, to, backup.Overwrite())
		wantRefusal(t, "BackupFile to "+to, err, orgdb.CodeValidation, "", "-wal, -shm, -journal")
		if after := state(); !maps.Equal(before, after) {
			t.Fatalf("a refused backup to %s changed %s: %v → %v", to, dir, slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
		}
	}
	if u, _ := dbtest.Pairs(t, path); u != 3 {
		t.Fatalf("the database holds %d users after the refusals, want 3", u)
	}

	from := backupOf(t, 2)
	bdir := filepath.Dir(from)
	before := dirState(t, bdir)
	_, err := backup.Restore(ctx, from+"-wal", from, backup.CreateNew())
	wantRefusal(t, "restore into the backup's -wal", err, orgdb.CodeValidation, "", "nothing was changed")
	sameDir(t, bdir, before)
	if err := os.WriteFile(from+"-journal", []byte(readFile(t, from)), 0o600); err != nil {
		t.Fatal(err)
	}
	before = dirState(t, bdir)
	_, err = backup.Restore(ctx, from, from+"-journal")
	wantRefusal(t, "restore from the database's -journal", err, orgdb.CodeValidation, "", "nothing was changed")
	sameDir(t, bdir, before)
}

// Restore replaces only an orgdb database: a text file, another
// application's SQLite file and a directory are refused, unchanged.
// File refuses a --db that is not SQLite the same way.
func TestRestoreRefusesWhatIsNotOrgdb(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := backupOf(t, 2)
	notes := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign, unchanged := dbtest.ForeignDB(t)
	for _, p := range []string{notes, foreign} {
		before := dirState(t, filepath.Dir(p))
		_, err := backup.Restore(ctx, p, from, backup.CreateNew())
		wantRefusal(t, "restore over "+p, err, orgdb.CodeValidation, store.ReasonNotOrgdb, "not an orgdb database", "check the path", "nothing was changed")
		sameDir(t, filepath.Dir(p), before)
	}
	unchanged()
	adir := t.TempDir()
	_, err := backup.Restore(ctx, adir, from, backup.CreateNew())
	wantRefusal(t, "restore over a directory", err, orgdb.CodeValidation, "", "is a directory", "--db", "nothing was changed")
	if left, err := os.ReadDir(adir); err != nil || len(left) != 0 {
		t.Fatalf("a refused restore wrote into %s: %v %v", adir, left, err)
	}
	_, err = backup.File(ctx, notes, filepath.Join(t.TempDir(), "b.db"))
	wantRefusal(t, "backup of a text file", err, orgdb.CodeValidation, store.ReasonNotOrgdb, "it is not a SQLite database", "check the path")
	_, err = backup.Restore(ctx, filepath.Join(t.TempDir(), "typo.db"), filepath.Join(t.TempDir(), "nope.db"))
	wantRefusal(t, "restore from a missing file", err, orgdb.CodeNotFound, "", "no backup at")
	if strings.Contains(err.Error(), "restore: ") {
		t.Errorf("%q repeats the command's name", err)
	}
}

// Restore run by root gives the restored file the owner and group of the
// database it replaces, so the service's user can still open it.
func TestRestoreKeepsTheOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root: only root can give a file to another user (run the tests as root to check the owner is kept)")
	}
	ctx := context.Background()
	from := backupOf(t, 2)
	path := dbtest.Closed(t, 1)
	const uid, gid = 4242, 4343
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Chown(path+suffix, uid, gid); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if _, err := backup.Restore(ctx, path, from); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != uid || st.Gid != gid {
		t.Fatalf("restored database is owned by %d:%d, want the previous file's %d:%d", st.Uid, st.Gid, uid, gid)
	}
	if u, _ := dbtest.Pairs(t, path); u != 2 {
		t.Fatalf("restored database holds %d users, want the backup's 2", u)
	}
}
