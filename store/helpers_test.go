package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
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

// second is the error of a call that returns a value and an error:
// must(t, second(st.CreateUser(...))).
func second[T any](_ T, err error) error { return err }

// exec runs a statement through a pool, failing the test on an error.
func exec(t testing.TB, d interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// inTx runs fn on the generated queries in one write transaction, failing
// the test on an error.
func inTx(t testing.TB, st *store.Store, fn func(q *db.Queries) error) {
	t.Helper()
	must(t, st.Tx(ctx, operator, store.OperatorOnly, fn))
}

// closeStore closes st when the test ends and checks the error.
func closeStore(t testing.TB, st *store.Store) {
	t.Helper()
	t.Cleanup(func() { must(t, st.Close()) })
}

// addUserIntegration stores a user-scoped integration (the store has no
// method for them: a service writes them through Tx).
func addUserIntegration(t testing.TB, st *store.Store, id, userID, service string) {
	t.Helper()
	inTx(t, st, func(q *db.Queries) error {
		_, err := q.InsertIntegration(ctx, db.InsertIntegrationParams{ID: id, UserID: userID, Service: service, Config: "{}", Status: "active", Scope: orgdb.ScopeUser})
		return err
	})
}

// operator is the operator acting in the tests: the actor of the writes
// only the operator may do, and of raw writes through Tx.
var operator = store.Operator("store tests")

// asAdmin is an admin of st acting (the first, oldest first), for the
// admin-only writes of tests about something else.
func asAdmin(t testing.TB, st *store.Store) store.Actor {
	t.Helper()
	for u, err := range st.AllUsers(ctx) {
		must(t, err)
		if u.Role == orgdb.RoleAdmin {
			return store.ByUser(u.ID)
		}
	}
	t.Fatal("asAdmin: the organization has no admin")
	return store.Actor{}
}

// wantRefusal is dbtest.WantRefusal.
var wantRefusal = dbtest.WantRefusal
