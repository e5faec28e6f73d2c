package dbfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/agentops/orgdb/schema"
	"github.com/mattn/go-sqlite3"
)

// URI returns the go-sqlite3 URI of the file at path with the given query
// (settings), for instance "mode=ro". Every DSN of orgdb is built by it.
func URI(path, query string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: query}
	return u.String()
}

// settings are DSN's settings, in its order.
func settings(txlock string) string {
	return fmt.Sprintf("_foreign_keys=on&_journal_mode=WAL&_busy_timeout=%d&_txlock=%s&_synchronous=NORMAL", schema.BusyTimeout.Milliseconds(), txlock)
}

// DSN returns the go-sqlite3 data source name orgdb uses for the database
// file at path, for the runner and the store's writer alike. The settings
// are in the DSN so every pooled connection has them (a PRAGMA run through
// a pool reaches one connection only):
//
//   - _foreign_keys=on: REFERENCES clauses are enforced;
//   - _journal_mode=WAL: readers do not block the writer;
//   - _busy_timeout=5000: a connection waits up to 5 s for a lock instead
//     of failing with "database is locked";
//   - _txlock=immediate: BEGIN takes the write lock at once, so a
//     read-then-write transaction never fails with SQLITE_BUSY_SNAPSHOT;
//   - _synchronous=NORMAL: safe with WAL, and one fsync per checkpoint
//     rather than per commit.
func DSN(path string) string { return URI(path, settings("immediate")) }

// ReadDSN is [DSN] for a read pool beside the writer: the same settings,
// but deferred transactions (a reader never takes the write lock: an
// IMMEDIATE BEGIN on a query_only connection fails) and query_only, so a
// write that reaches a reader fails loudly.
func ReadDSN(path string) string { return URI(path, settings("deferred")+"&_query_only=1") }

// ReadOnlyDSN returns the go-sqlite3 data source name for reading the
// existing file at path without changing it: SQLite opens it read-only
// (mode=ro: a missing file is an error, not a new empty database), the
// journal mode is left as the file has it, transactions are deferred, and
// query_only refuses any write that gets that far. It returns an error
// wrapping fs.ErrNotExist for a missing file.
//
// A WAL-mode file in a directory the process cannot write (a read-only
// copy, another user's file) cannot be opened that way while its -shm file
// is missing: SQLite would have to create it. With atRest, and only if no
// -wal or -journal file is beside it (nothing is writing to it, nothing to
// recover), ReadOnlyDSN opens such a file as immutable instead. That is for
// one-shot readers (a CLI command): an immutable connection takes no locks
// and would not see, and could misread, what a writer starting later
// writes. The same holds on a read-only file system (a read-only mount),
// whatever SQLite's error; otherwise the error there wraps
// [ErrReadOnlyFS] and says what to do.
func ReadOnlyDSN(ctx context.Context, path string, atRest bool) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	dsn := readOnlyDSN(path, "")
	err := probe(ctx, dsn)
	if err == nil {
		return dsn, nil
	}
	var se sqlite3.Error
	rofs := readOnlyFS(filepath.Dir(path))
	if atRest && (rofs || errors.As(err, &se) && se.Code == sqlite3.ErrReadonly) && !exists(path+"-wal") && !exists(path+"-journal") {
		dsn = readOnlyDSN(path, "&immutable=1")
		if err := probe(ctx, dsn); err == nil {
			return dsn, nil
		}
	}
	if rofs {
		return "", fmt.Errorf("open %s read-only: %w (%v): SQLite cannot create the -shm file it needs beside a WAL database that another process may write; "+
			"orgdb reads such a file only at rest (no -wal or -journal beside it) from a one-shot command; remount the file system read-write, or copy the database elsewhere", path, ErrReadOnlyFS, err)
	}
	return "", fmt.Errorf("open %s read-only: %w", path, err)
}

// ErrReadOnlyFS is wrapped by the errors of a database on a read-only
// file system (a read-only mount) that cannot be opened as asked.
var ErrReadOnlyFS = errors.New("the file system is read-only")

// ReadOnlyFS reports whether the directory of the database at path is on
// a read-only file system, where no process can write it through this
// path.
func ReadOnlyFS(path string) bool { return readOnlyFS(filepath.Dir(path)) }

// exists reports whether a file is at path (an error other than "does not
// exist" counts as there: the caller must not assume it away).
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func readOnlyDSN(path, extra string) string {
	return URI(path, fmt.Sprintf("mode=ro&_foreign_keys=on&_busy_timeout=%d&_query_only=1", schema.BusyTimeout.Milliseconds())+extra)
}

// probe opens dsn and reads the schema once.
func probe(ctx context.Context, dsn string) error {
	db := sql.OpenDB(Connector(dsn, PlainDriver()))
	defer db.Close()
	var n int
	return db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema`).Scan(&n)
}
