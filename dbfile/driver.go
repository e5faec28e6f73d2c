package dbfile

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// Connector returns a connector opening go-sqlite3 connections to dsn
// with drv, for sql.OpenDB: orgdb's drivers are values built here, never
// registered by name, so every pool says which settings its connections
// get.
func Connector(dsn string, drv driver.Driver) driver.Connector { return connector{dsn: dsn, drv: drv} }

// Pool is sql.OpenDB of [Connector](dsn, drv).
func Pool(dsn string, drv driver.Driver) *sql.DB { return sql.OpenDB(Connector(dsn, drv)) }

type connector struct {
	dsn string
	drv driver.Driver
}

// Connect opens a connection; go-sqlite3 does not take a context to open.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the driver the connector opens with.
func (c connector) Driver() driver.Driver { return c.drv }

// MmapSize is the most of the file a connection maps (address space, not
// memory).
const MmapSize = 1 << 30

// WriterDriver is go-sqlite3 with automatic checkpoints turned off on the
// connection: by default the commit that grows the WAL past 1000 pages
// copies them into the database file and fsyncs it, inside that commit,
// while the write lock is held and every other writer waits. The store
// checkpoints in the background instead (Store.checkpoints). The writer
// maps the file too (see [ReaderDriver]).
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
// file to it (store/checkpoint.go). persistWAL is for a file on LiteFS
// (see [ConnectHook]).
func WriterDriver(persistWAL bool, sizeLimit int64) driver.Driver {
	stmts := []string{`PRAGMA wal_autocheckpoint = 0`, `PRAGMA temp_store = MEMORY`, fmt.Sprintf(`PRAGMA mmap_size = %d`, MmapSize)}
	if sizeLimit > 0 {
		stmts = append(stmts, fmt.Sprintf(`PRAGMA journal_size_limit = %d`, sizeLimit))
	}
	return &sqlite3.SQLiteDriver{ConnectHook: ConnectHook(persistWAL, stmts...)}
}

// ReaderDriver is go-sqlite3 with the database file memory-mapped on the
// connection: a read of a page the OS already caches is a memory access,
// not a read(2) into SQLite's small per-connection cache. It keeps point
// lookups flat as tables outgrow that cache. Writes still go through
// write(2) and the WAL.
func ReaderDriver(persistWAL bool) driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: ConnectHook(persistWAL, fmt.Sprintf(`PRAGMA mmap_size = %d`, MmapSize))}
}

// PlainDriver is go-sqlite3 as it comes, for inspecting, backing up and
// restoring a file.
func PlainDriver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// CheckpointDriver is go-sqlite3 as it comes, for the store's checkpoint
// connection, keeping the WAL on close on LiteFS (see [ConnectHook]).
func CheckpointDriver(persistWAL bool) driver.Driver {
	return &sqlite3.SQLiteDriver{ConnectHook: ConnectHook(persistWAL)}
}

// ConnectHook is a ConnectHook running the statements on every new
// connection. With persistWAL (the database is on a LiteFS mount) the
// connection also sets SQLITE_FCNTL_PERSIST_WAL, so that the last
// connection to close leaves -wal and -shm in place instead of deleting
// them. On a LiteFS replica, deleting -shm races LiteFS itself: LiteFS
// writes the replica's shared-memory index into its data directory, behind
// the FUSE mount, while the next opener recreates -shm at size 0 through
// the mount; the kernel then keeps the size 0 for a file of 32 KiB, and
// the opener's mapping of it faults with SIGBUS (seen in about 1 of 100
// reopens under the primary's writes; none with the WAL kept).
func ConnectHook(persistWAL bool, stmts ...string) func(*sqlite3.SQLiteConn) error {
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
