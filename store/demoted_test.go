package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// failBeginDriver fails the writer's next BEGIN, once armed, after running
// a function: what LiteFS does to a write that passed the store's guard
// when the node stops being the primary meanwhile (the FUSE layer refuses
// the write with an I/O error).
type failBeginDriver struct {
	driver.Driver
	armed *atomic.Pointer[func()]
}

func (d failBeginDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.Driver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &failBeginConn{c.(*sqlite3.SQLiteConn), d.armed}, nil
}

type failBeginConn struct {
	*sqlite3.SQLiteConn
	armed *atomic.Pointer[func()]
}

func (c *failBeginConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	if f := c.armed.Swap(nil); f != nil {
		(*f)()
		return nil, sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite}
	}
	return c.SQLiteConn.BeginTx(ctx, o)
}

// A write that passed the guard and then failed because the node lost the
// primary role is NOT_PRIMARY naming the new primary, not an INTERNAL
// error; the same failure while the node is still the primary stays
// INTERNAL. Either way nothing changes. The directory is laid out as a
// LiteFS mount's (its .lag file; .primary names the primary on a replica)
// without FUSE, so that the role can change between the guard and BEGIN.
func TestWriteDemotedAfterTheGuard(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	dir := filepath.Dir(path)
	must(t, os.WriteFile(filepath.Join(dir, ".lag"), []byte("+000000000\n"), 0o600))
	var armed atomic.Pointer[func()]
	st, err := store.Open(ctx, path, store.WithLiteFS(), store.WithWriterDriver(func(d driver.Driver) driver.Driver {
		return failBeginDriver{d, &armed}
	}))
	must(t, err)
	closeStore(t, st)
	if r := st.Role(); !r.LiteFS || !r.Primary {
		t.Fatalf("Role = %+v; want a LiteFS primary", r)
	}
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"})
	must(t, err)
	before := dbtest.Snapshot(t, st.ReadDB())
	write := func() error {
		_, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "new@acme.test"})
		return err
	}

	stay := func() {}
	armed.Store(&stay)
	err = write()
	wantErr(t, err, orgdb.CodeInternal, "")

	demote := func() { must(t, os.WriteFile(filepath.Join(dir, ".primary"), []byte("node-b\n"), 0o600)) }
	armed.Store(&demote)
	err = write()
	wantRefusal(t, "a write demoted after the guard", err, orgdb.CodeNotPrimary, litefs.ReasonReplica, "node-b")
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrIoErr {
		t.Errorf("the NOT_PRIMARY error does not carry LiteFS's I/O error as its cause: %#v", err)
	}
	if armed.Load() != nil {
		t.Fatal("the write never reached BEGIN")
	}
	if got := dbtest.Snapshot(t, st.ReadDB()); got != before {
		t.Errorf("the failed writes changed the database:\n%s\nwant\n%s", got, before)
	}
}
