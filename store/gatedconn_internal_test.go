package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentops/orgdb/schema"
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
