package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
)

// ErrNotOrgdb is returned (wrapped) for a SQLite database that has tables
// but no schema_migrations: another application's file, which orgdb must
// not touch.
var ErrNotOrgdb = errors.New("not an orgdb database")

// ErrNotMigrated is returned (wrapped) by [Verify] for a database that
// still has migrations to apply.
var ErrNotMigrated = errors.New("database not migrated")

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

// OthersGlob matches, with SQL's GLOB, the tables other tools keep in an
// orgdb database: Litestream's _litestream_seq and _litestream_lock. They
// are not orgdb's schema: every reader of the catalog (the runner, status,
// the migration lint, schema snapshots, tests) leaves them out, with
// `name NOT GLOB '` + OthersGlob + `'` (GLOB, not LIKE: in LIKE, _ is a
// wildcard).
const OthersGlob = "_litestream_*"
