package store_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// countingDriver wraps the store's writer driver and counts every
// statement its connections prepare.
type countingDriver struct {
	driver.Driver
	prepares *atomic.Int64
}

func (d countingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.Driver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{c.(*sqlite3.SQLiteConn), d.prepares}, nil
}

type countingConn struct {
	*sqlite3.SQLiteConn
	prepares *atomic.Int64
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	c.prepares.Add(1)
	return c.SQLiteConn.Prepare(query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.prepares.Add(1)
	return c.SQLiteConn.PrepareContext(ctx, query)
}

// Statements are prepared once: transactions reuse them through
// tx.StmtContext instead of preparing them again on every call.
func TestTransactionsDoNotRePrepare(t *testing.T) {
	t.Parallel()
	var prepares atomic.Int64
	st := dbtest.New(t, store.WithWriterDriver(func(d driver.Driver) driver.Driver {
		return countingDriver{Driver: d, prepares: &prepares}
	}))
	ada, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
	must(t, err)
	must(t, second(st.UpdateUserRole(ctx, asAdmin(t, st), bob.ID, orgdb.RoleAdmin)))
	must(t, second(st.CreateInvite(ctx, store.ByUser(ada.ID), store.NewInvite{Email: "warm@acme.test"})))
	before := prepares.Load()
	if before == 0 {
		t.Fatal("the counting driver saw no prepare: is it in use?")
	}
	for i := range 50 {
		role := orgdb.RoleMember
		if i%2 == 1 {
			role = orgdb.RoleAdmin
		}
		if _, err := st.UpdateUserRole(ctx, asAdmin(t, st), bob.ID, role); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateInvite(ctx, store.ByUser(ada.ID), store.NewInvite{Email: fmt.Sprintf("u%d@acme.test", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := prepares.Load() - before; n != 0 {
		t.Errorf("100 transactions prepared %d statements, want 0", n)
	}
}
