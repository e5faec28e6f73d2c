package store_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Commits never checkpoint (the writer's autocheckpoint is off); the store
// copies the WAL into the database file in the background, and Close
// checkpoints all of it.
func TestCheckpointsInTheBackground(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	st.DB().QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto)
	if auto != 0 {
		t.Errorf("writer wal_autocheckpoint = %d, want 0", auto)
	}
	time.Sleep(3 * 200 * time.Millisecond) // let the migration's pages settle
	before := size(t, path)
	tx, _ := st.DB().Begin()
	for i := range 5000 {
		if _, err := tx.Exec(`INSERT INTO users (id, email) VALUES (?, ?)`, fmt.Sprint(i), fmt.Sprintf("u%d@acme.test", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if size(t, path+"-wal") == 0 {
		t.Fatal("the commit wrote nothing to the WAL")
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(t, path) <= before {
		if time.Now().After(deadline) {
			t.Fatal("the database file did not grow: no background checkpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := size(t, path+"-wal"); n != 0 {
		t.Errorf("WAL holds %d bytes after Close", n)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestWithReadConns(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithReadConns(3))
	if n := st.ReadDB().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("read pool of %d", n)
	}
	if _, err := store.Open(ctx, dbtest.Path(t), store.WithReadConns(0)); err == nil {
		t.Error("zero read connections accepted")
	}
}
