package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentops/orgdb/schema"
	"github.com/mattn/go-sqlite3"
)

// Only a text that is surely one statement is tried again after
// SQLITE_BUSY outside a transaction: a second statement may follow a first
// that committed.
func TestOneStatement(t *testing.T) {
	for q, want := range map[string]bool{
		`INSERT INTO pad VALUES (1)`:                             true,
		"INSERT INTO pad VALUES (1);\n":                          true,
		`INSERT INTO pad VALUES (1); INSERT INTO pad VALUES (2)`: false,
		`INSERT INTO t VALUES ('a;b')`:                           false, // a literal's semicolon: SQLite's own wait, never a retry
		`;;`:                                                     false,
	} {
		if got := oneStatement(q); got != want {
			t.Errorf("oneStatement(%q) = %v, want %v", q, got, want)
		}
	}
}

// A RESTART or TRUNCATE checkpoint holds the write lock while it waits
// for readers, so it waits strongCheckpointWait, not the store's busy
// timeout: every writer on the file, in every process, waits behind it
// (CI: a backup's reader held its snapshot while the checkpoint, its
// short timeout reset by the writer's statement retries, waited 5 s, and
// another store's writes ran out of theirs, "database is locked").
func TestStrongCheckpointWaitsBriefly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "orgdb.db"), withCheckpointQuery("PRAGMA wal_checkpoint(PASSIVE)"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write := func() {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, `UPDATE org_settings SET name = name || 'x'`); err != nil {
			t.Fatal(err)
		}
	}
	write()
	// A reader pins a snapshot, and a later commit gives the WAL frames
	// the checkpoint must wait for it to let go of.
	r, err := s.ReadDB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	write()
	for _, mode := range []string{"RESTART", "TRUNCATE"} {
		start := time.Now()
		if err := s.strongCheckpoint(&checkpointer{}, mode); err != nil {
			t.Fatal(err)
		}
		// strongCheckpointWait is 100 ms; the bug waited the 5 s busy
		// timeout. Half of that leaves a loaded machine ample room.
		if d := time.Since(start); d > schema.BusyTimeout/2 {
			t.Errorf("%s checkpoint beside a reader took %v: it waited the busy timeout (%v), not %v", mode, d, schema.BusyTimeout, strongCheckpointWait)
		}
	}
	if _, err := r.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	// The writer's busy timeout is the store's again.
	c, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ms int64
	if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	if ms != schema.BusyTimeout.Milliseconds() {
		t.Errorf("writer's busy timeout after the checkpoints: %d ms, want %d", ms, schema.BusyTimeout.Milliseconds())
	}
}

// pragmaCounter counts the PRAGMA busy_timeout statements that reach
// SQLite on the writer's connections.
type pragmaCounter struct {
	driver.Driver
	n *atomic.Int64
}

func (d pragmaCounter) Open(dsn string) (driver.Conn, error) {
	c, err := d.Driver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &pragmaCountingConn{c.(*sqlite3.SQLiteConn), d.n}, nil
}

type pragmaCountingConn struct {
	*sqlite3.SQLiteConn
	n *atomic.Int64
}

func (c *pragmaCountingConn) ExecContext(ctx context.Context, q string, a []driver.NamedValue) (driver.Result, error) {
	if strings.HasPrefix(q, "PRAGMA busy_timeout") {
		c.n.Add(1)
	}
	return c.SQLiteConn.ExecContext(ctx, q, a)
}

// A store's write transactions, one after another, set no busy timeout:
// the writer's connection keeps 0 from one to the next (each had cost two
// PRAGMAs). A statement outside a transaction sets the store's timeout
// once, and one that names busy_timeout leaves the next write to set 0
// again.
func TestWritesSetNoBusyTimeout(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64
	s, err := Open(ctx, filepath.Join(t.TempDir(), "orgdb.db"), withWriterDriver(func(d driver.Driver) driver.Driver { return pragmaCounter{d, &n} }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users := 0
	signup := func() { // a write transaction: a sign-up
		t.Helper()
		users++
		if _, err := s.CreateUser(ctx, NewUser{Email: fmt.Sprintf("u%d@acme.test", users)}); err != nil {
			t.Fatal(err)
		}
	}
	signup()
	before := n.Load()
	for range 50 {
		signup()
	}
	if got := n.Load() - before; got != 0 {
		t.Errorf("50 write transactions set the busy timeout %d times, want 0", got)
	}
	query := func() {
		t.Helper()
		var name string
		if err := s.DB().QueryRowContext(ctx, `SELECT name FROM org_settings`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	stmt, err := s.DB().PrepareContext(ctx, `SELECT name FROM org_settings WHERE id = 'default'`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	prepared := func() {
		t.Helper()
		var name string
		if err := stmt.QueryRowContext(ctx).Scan(&name); err != nil {
			t.Fatal(err)
		}
	}
	userPragma := func() {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, `PRAGMA busy_timeout = 1234`); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		what string
		do   func()
		want int64 // PRAGMA busy_timeout statements
	}{
		{"a query outside a transaction", query, 1}, // the store's 5 s
		{"another", query, 0},
		{"a write transaction", signup, 1},                    // 0 again
		{"a PRAGMA busy_timeout through DB()", userPragma, 1}, // its own
		{"the next write transaction", signup, 1},             // 0 again: the timeout was unknown
		{"a prepared statement outside a transaction", prepared, 1},
		{"it again", prepared, 0},
		{"a write transaction", signup, 1},
	} {
		before := n.Load()
		step.do()
		if got := n.Load() - before; got != step.want {
			t.Errorf("%s set the busy timeout %d times, want %d", step.what, got, step.want)
		}
	}
}

// Outside a transaction, a statement through DB() that writes with
// RETURNING (a Query, whose SQLITE_BUSY may come with its first row) or a
// prepared one waits for a lock another process holds, though the
// writer's connection keeps a busy timeout of 0 between write
// transactions.
func TestQueriesOutsideATransactionWait(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orgdb.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stmt, err := s.DB().PrepareContext(ctx, `UPDATE org_settings SET name = 'prepared' RETURNING name`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, run := range []struct {
		what  string
		query func() *sql.Row
	}{
		{"a query", func() *sql.Row {
			return s.DB().QueryRowContext(ctx, `UPDATE org_settings SET name = 'query' RETURNING name`)
		}},
		{"a prepared statement", func() *sql.Row { return stmt.QueryRowContext(ctx) }},
	} {
		if _, err := s.CreateUser(ctx, NewUser{Email: fmt.Sprintf("%d@acme.test", time.Now().UnixNano())}); err != nil {
			t.Fatal(err) // a write transaction: the busy timeout is 0 after it
		}
		tx, err := other.DB().BeginTx(ctx, nil) // IMMEDIATE: holds the write lock
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			var name string
			done <- run.query().Scan(&name)
		}()
		// Long enough for the query to meet the lock (it waits up to 5 s).
		time.Sleep(100 * time.Millisecond)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Errorf("%s outside a transaction beside a writer: %v, want it to wait for the lock", run.what, err)
		}
	}
}
