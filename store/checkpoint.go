package store

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// writerDriver is go-sqlite3 with automatic checkpoints turned off on the
// connection: by default the commit that grows the WAL past 1000 pages
// copies them into the database file and fsyncs it, inside that commit,
// while the write lock is held and every other writer waits. The store
// checkpoints in the background instead (Store.checkpoints). The writer
// maps the file too (see readerDriver).
const writerDriver = "sqlite3_orgdb_writer"

// writerDriverName is the driver Open uses for the writer; tests swap in a
// counting wrapper.
var writerDriverName = writerDriver

// readerDriver is go-sqlite3 with the database file memory-mapped on the
// connection: a read of a page the OS already caches is a memory access,
// not a read(2) into SQLite's small per-connection cache. It keeps point
// lookups flat as tables outgrow that cache. Writes still go through
// write(2) and the WAL.
const readerDriver = "sqlite3_orgdb_reader"

// mmapSize is the most of the file a reader maps (address space, not
// memory).
const mmapSize = 1 << 30

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(fmt.Sprintf(`PRAGMA wal_autocheckpoint = 0; PRAGMA mmap_size = %d`, mmapSize), nil)
			return err
		},
	})
	sql.Register(readerDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(fmt.Sprintf(`PRAGMA mmap_size = %d`, mmapSize), nil)
			return err
		},
	})
}

// checkpointEvery is how often the background checkpoint runs.
const checkpointEvery = 200 * time.Millisecond

// checkpoints copies committed WAL pages into the database file every
// checkpointEvery, on its own connection, until Close. PASSIVE never waits
// for readers or the writer, so neither waits for it; a failure (another
// process checkpointing, say) is left to the next tick.
func (s *Store) checkpoints() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) //nolint:errcheck // retried next tick
		}
	}
}
