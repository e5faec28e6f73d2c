package dbfile_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
)

// unchanged fails unless the file at path still holds exactly want and no
// journal or WAL content was left beside it. (Reading a WAL-mode file may
// leave an empty -wal and the -shm index, which hold no data.)
func unchanged(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed", path)
	}
	if _, err := os.Stat(path + "-journal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s-journal exists (%v)", path, err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("%s-wal holds %d bytes", path, fi.Size())
	}
}

func TestInspectChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "typo", "orgdb.db")
		if _, err := dbfile.Inspect(ctx, path, schema.FS()); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Inspect(missing) = %v, want fs.ErrNotExist", err)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Inspect created %s", filepath.Dir(path))
		}
	})

	t.Run("another application's database", func(t *testing.T) {
		t.Parallel()
		path, unchanged := dbtest.ForeignDB(t)
		if _, err := dbfile.Inspect(ctx, path, schema.FS()); !errors.Is(err, schema.ErrNotOrgdb) {
			t.Fatalf("Inspect(other app) = %v, want ErrNotOrgdb", err)
		}
		unchanged()
		// The migration runner refuses it too, and creates no table.
		d := dbtest.Raw(t, path)
		if _, err := schema.Migrate(ctx, d, schema.FS()); !errors.Is(err, schema.ErrNotOrgdb) {
			t.Fatalf("Migrate(other app) = %v, want ErrNotOrgdb", err)
		}
		var n int
		if err := d.QueryRow(`SELECT COUNT(*) FROM sqlite_schema`).Scan(&n); err != nil || n != 1 {
			t.Errorf("after a refused Migrate: %d schema objects, %v; want only the app's table", n, err)
		}
	})

	t.Run("orgdb database", func(t *testing.T) {
		t.Parallel()
		path := dbtest.Path(t)
		d := dbtest.Raw(t, path)
		if _, err := schema.Migrate(ctx, d, schema.FS()); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil { // the last close removes -wal and -shm
			t.Fatal(err)
		}
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := dbfile.Inspect(ctx, path, schema.FS())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("%s reported pending", s.File)
			}
		}
		unchanged(t, path, before)
	})
}
