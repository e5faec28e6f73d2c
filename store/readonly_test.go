package store_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// fileBytes returns the bytes of the file at path.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}

func TestReadOnlyRefusesWhatIsNotAnOrgdbDatabase(t *testing.T) {
	t.Parallel()

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "typo", "orgdb.db")
		_, err := store.Open(ctx, path, store.ReadOnly())
		wantErr(t, err, orgdb.CodeNotFound, store.ReasonNoDatabase)
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "orgdb migrate") {
			t.Errorf("refusal %q names neither the path nor orgdb migrate", err)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadOnly created %s", filepath.Dir(path))
		}
	})

	t.Run("another application's database", func(t *testing.T) {
		t.Parallel()
		path, unchanged := dbtest.ForeignDB(t)
		_, err := store.Open(ctx, path, store.ReadOnly())
		wantErr(t, err, orgdb.CodeValidation, store.ReasonNotOrgdb)
		// Opening it to write is refused too, before orgdb's DSN would
		// switch it to WAL.
		_, err = store.Open(ctx, path)
		wantErr(t, err, orgdb.CodeValidation, store.ReasonNotOrgdb)
		unchanged()
	})

	t.Run("not migrated", func(t *testing.T) {
		t.Parallel()
		path := dbtest.Path(t)
		must(t, os.WriteFile(path, nil, 0o600)) // an empty file is an empty SQLite database
		_, err := store.Open(ctx, path, store.ReadOnly())
		wantErr(t, err, orgdb.CodeConflict, store.ReasonNotMigrated)
		if !strings.Contains(err.Error(), "orgdb migrate") {
			t.Errorf("refusal %q does not say to run orgdb migrate", err)
		}
		if b := fileBytes(t, path); len(b) != 0 {
			t.Errorf("the empty file now holds %d bytes", len(b))
		}
	})
}

func TestReadOnlyReadsAndNeverWrites(t *testing.T) {
	t.Parallel()
	rw := dbtest.New(t)
	path := dbtest.File(t, rw.DB())
	ada := signup(t, rw, "ada@acme.test")

	ro, err := store.Open(ctx, path, store.ReadOnly())
	must(t, err)
	closeStore(t, ro)
	if u, err := ro.GetUser(ctx, ada.ID); err != nil || u.Email != ada.Email {
		t.Fatalf("GetUser on a read-only store = %+v, %v", u, err)
	}
	// It sees what the writer commits later.
	bob := signup(t, rw, "bob@acme.test")
	if _, err := ro.GetUserByEmail(ctx, bob.Email); err != nil {
		t.Fatalf("a read-only store does not see a later commit: %v", err)
	}

	before := dbtest.Snapshot(t, rw.DB())
	_, err = ro.CreateUser(ctx, store.NewUser{Email: "eve@acme.test"})
	wantErr(t, err, orgdb.CodeInternal, "")
	if !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write on a read-only store: %v; want it to say read-only", err)
	}
	_, err = ro.UpdateUserRole(ctx, asAdmin(t, ro), bob.ID, orgdb.RoleAdmin)
	wantErr(t, err, orgdb.CodeInternal, "")
	if dbtest.Snapshot(t, rw.DB()) != before {
		t.Error("writes through a read-only store changed the database")
	}
}
