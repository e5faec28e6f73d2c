package backup_test

import (
	"context"
	"database/sql"
	"log"
	"os"
	"testing"

	"github.com/agentops/orgdb/store"
)

var ctx = context.Background()

// must fails the test on an error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// exec runs a statement through a pool, failing the test on an error.
func exec(t testing.TB, d interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// closeStore closes st when the test ends and checks the error.
func closeStore(t testing.TB, st *store.Store) {
	t.Helper()
	t.Cleanup(func() { must(t, st.Close()) })
}

// operator is the operator acting in the tests.
var operator = store.Operator("backup tests")

// check stops an example on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// size is the size of the file at path, 0 if there is none.
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
