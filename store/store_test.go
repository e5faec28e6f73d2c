package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// Every pooled connection must carry the DSN settings, not just the first:
// the writer's one connection and each of the readers.
func TestOpenSettingsOnEveryConnection(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	check := func(name string, conn *sql.Conn, queryOnly int) {
		t.Helper()
		var fk, busy, qo int
		var mode string
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		must(t, conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
		must(t, conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy))
		must(t, conn.QueryRowContext(ctx, `PRAGMA query_only`).Scan(&qo))
		if fk != 1 || mode != "wal" || busy != 5000 || qo != queryOnly {
			t.Errorf("%s: foreign_keys=%d journal_mode=%s busy_timeout=%d query_only=%d", name, fk, mode, busy, qo)
		}
	}
	n := st.ReadDB().Stats().MaxOpenConnections
	if n < 2 {
		t.Fatalf("read pool of %d connections", n)
	}
	for i := range n {
		conn, err := st.ReadDB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { must(t, conn.Close()) }) // hold it so the next Conn is a new connection
		check(fmt.Sprintf("reader %d", i), conn, 1)
	}
	if got := st.ReadDB().Stats().OpenConnections; got != n {
		t.Fatalf("%d reader connections opened, want %d", got, n)
	}
	w, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("writer", w, 0)
	must(t, w.Close())
	if got := st.DB().Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool allows %d connections, want 1", got)
	}
}

func TestOpenMigrates(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	status, err := schema.StatusOf(ctx, st.DB(), schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if !s.Applied {
			t.Errorf("%s not applied by Open", s.File)
		}
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if st, err := store.Open(ctx, p); err == nil {
			must(t, st.Close())
			t.Errorf("Open(%q) accepted", p)
		}
	}
}

func TestDSNEscapesPath(t *testing.T) {
	t.Parallel()
	got := dbfile.DSN("dir with space/a?b#c.db")
	if !strings.HasPrefix(got, "file:dir%20with%20space/a%3Fb%23c.db?") {
		t.Errorf("DSN = %s", got)
	}
	// A path with such characters really opens the file it names.
	path := t.TempDir() + "/a?b #c.db"
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	must(t, st.Close())
}

func TestTxRollsBackOnErrorAndPanic(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	before := dbtest.Snapshot(t, st.DB())
	insert := func(q *db.Queries) error {
		_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "a@acme.test", Role: orgdb.RoleMember})
		return err
	}
	boom := errors.New("boom")
	err := st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
		if err := insert(q); err != nil {
			t.Fatal(err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx error = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
			insert(q)
			panic("boom")
		})
	}()
	if after := dbtest.Snapshot(t, st.DB()); after != before {
		t.Errorf("rolled-back transactions changed the database")
	}
	if err := st.Tx(ctx, operator, store.OperatorOnly, insert); err != nil {
		t.Fatal(err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("committed transaction: %d users", n)
	}
}

// Reads go to the read pool, so a transaction holding the writer does not
// stop them; writes wait for the writer.
func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ada, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := st.GetOrgSettings(short); err != nil {
		t.Errorf("GetOrgSettings while the writer is held: %v", err)
	}
	if _, err := st.GetUserByEmail(short, "ada@acme.test"); err != nil {
		t.Errorf("GetUserByEmail while the writer is held: %v", err)
	}
	if _, err := st.ListInvites(short, store.ListInvitesOptions{}); err != nil {
		t.Errorf("ListInvites while the writer is held: %v", err)
	}
	blocked, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	if _, err := st.UpdateUserRole(blocked, asAdmin(t, st), ada.ID, orgdb.RoleAdmin); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a write did not wait for the writer: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The read pool refuses writes outright.
	if _, err := st.ReadDB().Exec(`UPDATE org_settings SET name = 'x'`); err == nil {
		t.Error("a reader connection wrote")
	}
}
