package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

// ErrNotOrgdb is returned (wrapped) for a SQLite database that has tables
// but no schema_migrations: another application's file, which orgdb must
// not touch.
var ErrNotOrgdb = errors.New("not an orgdb database")

// ErrNotMigrated is returned (wrapped) by [Verify] for a database that
// still has migrations to apply.
var ErrNotMigrated = errors.New("database not migrated")

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
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	u.RawQuery = "mode=ro&_foreign_keys=on&_busy_timeout=5000&_query_only=1" + extra
	return u.String()
}

// probe opens dsn and reads the schema once.
func probe(ctx context.Context, dsn string) error {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	return db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema`).Scan(&n)
}

// querier is what records needs of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// records reads schema_migrations without creating it. A database with no
// schema_migrations is a new, empty one (no records) or another
// application's ([ErrNotOrgdb]).
func records(ctx context.Context, db querier) (map[int]record, error) {
	var hasTable bool
	var others int
	err := db.QueryRowContext(ctx, `SELECT
	  EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'),
	  (SELECT COUNT(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT GLOB '`+OthersGlob+`')`).Scan(&hasTable, &others)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	if !hasTable {
		if others > 0 {
			return nil, fmt.Errorf("%w: it has %d schema objects but no schema_migrations table", ErrNotOrgdb, others)
		}
		return map[int]record{}, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version, name, sha256, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	recs := map[int]record{}
	for rows.Next() {
		var r record
		if err := rows.Scan(&r.version, &r.name, &r.sha256, &r.appliedAt); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		recs[r.version] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return recs, nil
}

// Verify checks, without changing anything, that db is an orgdb database
// with every migration of fsys applied and unedited: what a process that
// only reads needs before it trusts the schema. A database with pending
// migrations is [ErrNotMigrated], another application's file
// [ErrNotOrgdb]; both errors say to run orgdb migrate where that helps.
// Versions applied by a newer binary (files fsys lacks) are accepted.
func Verify(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	ms, err := Load(fsys)
	if err != nil {
		return err
	}
	recs, err := records(ctx, db)
	if err != nil {
		return err
	}
	if err := check(ms, recs); err != nil {
		return err
	}
	pending := 0
	for _, m := range ms {
		if _, ok := recs[m.Version]; !ok {
			pending++
		}
	}
	if pending > 0 {
		return fmt.Errorf("%w: %d of %d migrations are pending (the newest is %s); run `orgdb migrate` first",
			ErrNotMigrated, pending, len(ms), ms[len(ms)-1].File)
	}
	return nil
}

// Inspect opens the existing database file at path read-only, once (see
// [ReadOnlyDSN], at rest), and returns the status of every migration of fsys,
// changing nothing: not the file, not its journal mode. A missing file is
// an error wrapping fs.ErrNotExist, another application's database one
// wrapping [ErrNotOrgdb].
func Inspect(ctx context.Context, path string, fsys fs.FS) ([]Status, error) {
	dsn, err := ReadOnlyDSN(ctx, path, true)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return StatusOf(ctx, db, fsys)
}

// OthersGlob matches, with SQL's GLOB, the tables other tools keep in an
// orgdb database: Litestream's _litestream_seq and _litestream_lock. They
// are not orgdb's schema: every reader of the catalog (the runner, status,
// the migration lint, schema snapshots, tests) leaves them out, with
// `name NOT GLOB '` + OthersGlob + `'` (GLOB, not LIKE: in LIKE, _ is a
// wildcard).
const OthersGlob = "_litestream_*"
