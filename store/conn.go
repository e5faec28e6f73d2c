package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"

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
