package schema

import (
	"fmt"
	"net/url"
	"time"
)

// BusyTimeout is how long a connection of [DSN] waits for a lock before
// it fails with "database is locked".
const BusyTimeout = 5 * time.Second

// DSN returns the go-sqlite3 data source name orgdb uses for the database
// file at path, for the runner and the store alike. The settings are in the DSN so every pooled connection has
// them (a PRAGMA run through a pool reaches one connection only):
//
//   - _foreign_keys=on: REFERENCES clauses are enforced;
//   - _journal_mode=WAL: readers do not block the writer;
//   - _busy_timeout=5000: a connection waits up to 5 s for a lock instead
//     of failing with "database is locked";
//   - _txlock=immediate: BEGIN takes the write lock at once, so a
//     read-then-write transaction never fails with SQLITE_BUSY_SNAPSHOT;
//   - _synchronous=NORMAL: safe with WAL, and one fsync per checkpoint
//     rather than per commit.
func DSN(path string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	u.RawQuery = fmt.Sprintf("_foreign_keys=on&_journal_mode=WAL&_busy_timeout=%d&_txlock=immediate&_synchronous=NORMAL", BusyTimeout.Milliseconds())
	return u.String()
}
