package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// prepares counts statements prepared on writer connections.
var prepares atomic.Int64

// countingDriver is go-sqlite3 (with the writer's settings) counting
// every statement its connections prepare.
type countingDriver struct{ sqlite3.SQLiteDriver }

func (d *countingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.SQLiteDriver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{c.(*sqlite3.SQLiteConn)}, nil
}

type countingConn struct{ *sqlite3.SQLiteConn }

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	prepares.Add(1)
	return c.SQLiteConn.Prepare(query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	prepares.Add(1)
	return c.SQLiteConn.PrepareContext(ctx, query)
}

func init() {
	sql.Register("sqlite3_counting_writer", &countingDriver{sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(`PRAGMA wal_autocheckpoint = 0`, nil)
			return err
		},
	}})
}

// Statements are prepared once: transactions reuse them through
// tx.StmtContext instead of preparing them again on every call.
func TestTransactionsDoNotRePrepare(t *testing.T) {
	defer store.UseWriterDriver("sqlite3_counting_writer")()
	st := dbtest.New(t)
	ada, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
	st.UpdateUserRole(ctx, bob.ID, orgdb.RoleAdmin)
	st.CreateInvite(ctx, store.NewInvite{Email: "warm@acme.test", InvitedBy: ada.ID})
	before := prepares.Load()
	if before == 0 {
		t.Fatal("the counting driver saw no prepare: is it in use?")
	}
	for i := range 50 {
		role := orgdb.RoleMember
		if i%2 == 1 {
			role = orgdb.RoleAdmin
		}
		if _, err := st.UpdateUserRole(ctx, bob.ID, role); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateInvite(ctx, store.NewInvite{Email: fmt.Sprintf("u%d@acme.test", i), InvitedBy: ada.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if n := prepares.Load() - before; n != 0 {
		t.Errorf("100 transactions prepared %d statements, want 0", n)
	}
}
