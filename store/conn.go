package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/agentops/orgdb/schema"
	"github.com/mattn/go-sqlite3"
)

// connector opens go-sqlite3 connections with one DSN, for sql.OpenDB: the
// store's drivers are values built in Open, never registered by name.
type connector struct {
	dsn string
	drv driver.Driver
}

func newConnector(dsn string, drv driver.Driver) connector { return connector{dsn: dsn, drv: drv} }

// Connect opens a connection; go-sqlite3 does not take a context to open.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the driver the connector opens with.
func (c connector) Driver() driver.Driver { return c.drv }

// mmapSize is the most of the file a connection maps (address space, not
// memory).
const mmapSize = 1 << 30

// writerDriver is go-sqlite3 with automatic checkpoints turned off on the
// connection: by default the commit that grows the WAL past 1000 pages
// copies them into the database file and fsyncs it, inside that commit,
// while the write lock is held and every other writer waits. The store
// checkpoints in the background instead (Store.checkpoints). The writer
// maps the file too (see readerDriver).
//
// Its temporary storage is memory: inside an explicit transaction, a
// statement that may change several rows, or has RETURNING, keeps a
// statement journal so that it can be undone alone, and with the default
// temp_store that journal is a new file in the temporary directory
// (open, unlink, close) on each such statement. Every write of the store
// runs in an IMMEDIATE transaction, so that file cost SetOrgAPIKey about
// three quarters of its time (make bench-compare: 390 µs to 99 µs). The
// journals are small (a statement's old pages) and freed at its end.
//
// With sizeLimit > 0 the writer also sets PRAGMA journal_size_limit: when
// it starts again at the front of a WAL longer than that, it truncates the
// file to it (checkpoint.go).
func writerDriver(persistWAL bool, sizeLimit int64) driver.Driver {
	stmts := []string{`PRAGMA wal_autocheckpoint = 0`, `PRAGMA temp_store = MEMORY`, fmt.Sprintf(`PRAGMA mmap_size = %d`, mmapSize)}
	if sizeLimit > 0 {
		stmts = append(stmts, fmt.Sprintf(`PRAGMA journal_size_limit = %d`, sizeLimit))
	}
	return &sqlite3.SQLiteDriver{ConnectHook: connectHook(persistWAL, stmts...)}
}

// gatedDriver opens the writer's connections behind the WAL's gate
// (checkpoint.go) when the store checkpoints (not
// [WithExternalCheckpoints], not on LiteFS): every transaction the writer
// begins, and every statement it executes outside one, passes the gate
// first.
type gatedDriver struct {
	drv  driver.Driver
	gate *walGate
}

// Open opens a connection behind the gate.
func (d gatedDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.drv.Open(dsn)
	if err != nil {
		return nil, err
	}
	wc, ok := c.(writerConn)
	if !ok {
		return nil, errors.Join(fmt.Errorf("open the writer: connection is %T, want go-sqlite3's", c), c.Close())
	}
	return &gatedConn{writerConn: wc, gate: d.gate}, nil
}

// writerConn is what the gate needs of a writer connection, and what
// database/sql uses of go-sqlite3's (a *sqlite3.SQLiteConn, or a test's
// wrapper of one).
type writerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	AutoCommit() bool
}

// gatedConn is a writer connection behind the WAL's gate. Only the ways
// to start a write are overridden.
type gatedConn struct {
	writerConn
	gate *walGate
}

// BeginTx begins the transaction (IMMEDIATE: it holds the write lock),
// then looks at the WAL's size. Past walGateBytes it rolls back, lets
// the gate checkpoint the WAL and begins again. Looking with the write
// lock held, no other writer can add frames between the look and this
// transaction's commit: the WAL ends at most one transaction past the
// threshold.
func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	for {
		tx, err := c.begin(ctx, opts)
		if err != nil || !c.gate.closed() {
			return tx, err
		}
		if err := tx.Rollback(); err != nil {
			return nil, fmt.Errorf("WAL gate: roll back to checkpoint: %w", err)
		}
		if err := c.gate.pass(ctx, c.writerConn); err != nil {
			return nil, err
		}
		if !c.gate.closed() {
			continue
		}
		return c.begin(ctx, opts) // the gate gave up: write on
	}
}

// beginPoll is how often a writer waiting for the write lock tries again.
const beginPoll = time.Millisecond

// begin begins the transaction, waiting for the write lock up to the
// store's busy timeout, as SQLite's busy handler would, but trying again
// every beginPoll. SQLite's handler sleeps 100 ms between tries once it
// has waited a third of a second, and the lock is free only for the
// moments between one writer's commit and its next BEGIN: with four
// processes writing back to back, a writer that had missed a few tries
// kept missing (1–5 s measured, some past the 5 s timeout, "database is
// locked"), with or without strong checkpoints. The busy timeout is 0
// while it tries, the store's again once it holds the lock.
func (c *gatedConn) begin(ctx context.Context, opts driver.TxOptions) (_ driver.Tx, err error) {
	if _, err := c.writerConn.ExecContext(ctx, `PRAGMA busy_timeout = 0`, nil); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if _, rerr := c.writerConn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, schema.BusyTimeout.Milliseconds()), nil); rerr != nil {
			// The writer must not keep a busy timeout of 0: database/sql
			// drops a connection that returns ErrBadConn.
			err = errors.Join(err, fmt.Errorf("begin: restore the busy timeout: %w", rerr), driver.ErrBadConn)
		}
	}()
	deadline := time.Now().Add(schema.BusyTimeout)
	for {
		tx, err := c.writerConn.BeginTx(ctx, opts)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(beginPoll):
		}
	}
}

// Begin is BeginTx without a context.
func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// ExecContext passes the gate first when it runs outside a transaction
// (its statement may write); the WAL's size is looked at before the
// statement takes the write lock.
func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.AutoCommit() && c.gate.closed() {
		if err := c.gate.pass(ctx, c.writerConn); err != nil {
			return nil, err
		}
	}
	return c.writerConn.ExecContext(ctx, query, args)
}

// Exec is ExecContext without a context.
func (c *gatedConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return c.ExecContext(context.Background(), query, named)
}

// readerDriver is go-sqlite3 with the database file memory-mapped on the
// connection: a read of a page the OS already caches is a memory access,
// not a read(2) into SQLite's small per-connection cache. It keeps point
// lookups flat as tables outgrow that cache. Writes still go through
// write(2) and the WAL.
func readerDriver(persistWAL bool) driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: connectHook(persistWAL, fmt.Sprintf(`PRAGMA mmap_size = %d`, mmapSize))}
}

// plainDriver is go-sqlite3 as it comes, for backups and restores.
func plainDriver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// checkpointDriver is go-sqlite3 as it comes, for the checkpoint
// connection, keeping the WAL on close on LiteFS (see connectHook).
func checkpointDriver(persistWAL bool) driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: connectHook(persistWAL)}
}

// connectHook is a ConnectHook running the statements on every new
// connection. With persistWAL (the database is on a LiteFS mount) the
// connection also sets SQLITE_FCNTL_PERSIST_WAL, so that the last
// connection to close leaves -wal and -shm in place instead of deleting
// them. On a LiteFS replica, deleting -shm races LiteFS itself: LiteFS
// writes the replica's shared-memory index into its data directory, behind
// the FUSE mount, while the next opener recreates -shm at size 0 through
// the mount; the kernel then keeps the size 0 for a file of 32 KiB, and
// the opener's mapping of it faults with SIGBUS (seen in about 1 of 100
// reopens under the primary's writes; none with the WAL kept).
func connectHook(persistWAL bool, stmts ...string) func(*sqlite3.SQLiteConn) error {
	return func(c *sqlite3.SQLiteConn) error {
		if persistWAL {
			if err := c.SetFileControlInt("main", sqlite3.SQLITE_FCNTL_PERSIST_WAL, 1); err != nil {
				return fmt.Errorf("keep the WAL on close (LiteFS): %w", err)
			}
		}
		if len(stmts) == 0 {
			return nil
		}
		_, err := c.Exec(strings.Join(stmts, "; "), nil)
		return err
	}
}

// readDSN is DSN for the read pool: the same settings, but deferred
// transactions (a reader never takes the write lock: an IMMEDIATE BEGIN on
// a query_only connection fails) and query_only, so a write that reaches a
// reader fails loudly.
func readDSN(path string) (string, error) {
	base, query, ok := strings.Cut(DSN(path), "?")
	if !ok {
		return "", fmt.Errorf("read DSN: %q has no settings", DSN(path))
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("read DSN: %w", err)
	}
	v.Set("_txlock", "deferred")
	v.Set("_query_only", "1")
	return base + "?" + v.Encode(), nil
}
