package store_test

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// roMount bind-mounts dir read-only at a new directory and returns it; it
// skips t where mounts are not permitted (not root, no CAP_SYS_ADMIN).
func roMount(t *testing.T, dir string) string {
	t.Helper()
	mnt := t.TempDir()
	if out, err := osexec.Command("mount", "--bind", dir, mnt).CombinedOutput(); err != nil {
		t.Skipf("a read-only bind mount needs root (CAP_SYS_ADMIN): mount --bind: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := osexec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	if out, err := osexec.Command("mount", "-o", "remount,ro,bind", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	return mnt
}

// On a read-only mount a database at rest is read, inspected and backed
// up; an Open for writing is INTERNAL_ERROR read_only_file_system saying
// so, and a database with a -wal beside it says the file system is
// read-only rather than "no such file or directory".
func TestReadOnlyMount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.Closed(t, 4)
	mnt := roMount(t, filepath.Dir(path))
	ro := filepath.Join(mnt, filepath.Base(path))

	st, err := store.Open(ctx, ro, store.ReadOnlyAtRest())
	if err != nil {
		t.Fatalf("reading a database on a read-only mount: %v", err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 4 {
		t.Fatalf("CountUsers on a read-only mount: %d, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := dbfile.Inspect(ctx, ro, schema.FS()); err != nil {
		t.Fatalf("status of a database on a read-only mount: %v", err)
	}
	to := filepath.Join(t.TempDir(), "b.db")
	if _, err := backup.File(ctx, ro, to); err != nil {
		t.Fatalf("backup of a database on a read-only mount: %v", err)
	}
	if u, _ := dbtest.Pairs(t, to); u != 4 {
		t.Fatalf("the backup holds %d users, want 4", u)
	}
	_, err = store.Open(ctx, ro)
	wantRefusal(t, "open for writing on a read-only mount", err, orgdb.CodeInternal, store.ReasonReadOnlyFS, "read-only", "remount")

	// A -wal beside it: not at rest, so not read as immutable.
	if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, ro, store.ReadOnlyAtRest())
	if !errors.Is(err, dbfile.ErrReadOnlyFS) {
		t.Fatalf("reading a database with a -wal on a read-only mount: %v, want an error saying the file system is read-only", err)
	}
}
