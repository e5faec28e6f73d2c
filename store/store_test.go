package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

var ctx = context.Background()

// Every pooled connection must carry the DSN settings, not just the first.
func TestOpenSettingsOnEveryConnection(t *testing.T) {
	st := dbtest.New(t)
	const n = 4
	for i := range n {
		conn, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close() // hold it so the next Conn is a new connection
		var fk, busy int
		var mode string
		if err := conn.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy)
		if fk != 1 || mode != "wal" || busy != 5000 {
			t.Errorf("connection %d: foreign_keys=%d journal_mode=%s busy_timeout=%d", i, fk, mode, busy)
		}
	}
	if got := st.DB().Stats().OpenConnections; got < n {
		t.Fatalf("only %d connections opened", got)
	}
}

func TestOpenMigrates(t *testing.T) {
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
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if st, err := store.Open(ctx, p); err == nil {
			st.Close()
			t.Errorf("Open(%q) accepted", p)
		}
	}
}

func TestDSNEscapesPath(t *testing.T) {
	got := store.DSN("dir with space/a?b#c.db")
	if !strings.HasPrefix(got, "file:dir%20with%20space/a%3Fb%23c.db?") {
		t.Errorf("DSN = %s", got)
	}
	// A path with such characters really opens the file it names.
	path := t.TempDir() + "/a?b #c.db"
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

func TestTxRollsBackOnErrorAndPanic(t *testing.T) {
	st := dbtest.New(t)
	before := dbtest.Snapshot(t, st.DB())
	insert := func(q *db.Queries) error {
		_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "a@acme.test", Role: orgdb.RoleMember})
		return err
	}
	boom := errors.New("boom")
	err := st.Tx(ctx, func(q *db.Queries) error {
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
		st.Tx(ctx, func(q *db.Queries) error {
			insert(q)
			panic("boom")
		})
	}()
	if after := dbtest.Snapshot(t, st.DB()); after != before {
		t.Errorf("rolled-back transactions changed the database")
	}
	if err := st.Tx(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountUsers(ctx); n != 1 {
		t.Errorf("committed transaction: %d users", n)
	}
}
