package dbfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/schema"
	"github.com/mattn/go-sqlite3"
)

// ReasonNotOrgdb is the reason (orgdb.Error.Reason) of the refusal of a
// file that is not an orgdb database: another application's SQLite file,
// or no SQLite file at all.
const ReasonNotOrgdb = "not_orgdb"

// Inspect opens the existing database file at path read-only, once (see
// [ReadOnlyDSN], at rest), and returns the status of every migration of
// fsys, changing nothing: not the file, not its journal mode. A missing
// file is an error wrapping fs.ErrNotExist, another application's database
// one wrapping [schema.ErrNotOrgdb].
func Inspect(ctx context.Context, path string, fsys fs.FS) ([]schema.Status, error) {
	dsn, err := ReadOnlyDSN(ctx, path, true)
	if err != nil {
		return nil, err
	}
	db := Pool(dsn, PlainDriver())
	defer db.Close()
	return schema.StatusOf(ctx, db, fsys)
}

// Check is [Inspect] of orgdb's own migrations, with the refusal of a file
// that is not orgdb's ([NotOrgdb]) applied: what every command that is
// about to open, replace or copy the file at path asks first. A missing
// file is an error wrapping fs.ErrNotExist; an empty file is a new
// database.
func Check(ctx context.Context, path string) ([]schema.Status, error) {
	st, err := Inspect(ctx, path, schema.FS())
	return st, NotOrgdb(path, err)
}

// NotOrgdb is the one refusal of a file that is not an orgdb database:
// err, from reading the file at path, becomes VALIDATION_ERROR (reason
// not_orgdb) when it is [schema.ErrNotOrgdb] (another application's SQLite
// file) or SQLite's "not a database" or "malformed" (not SQLite at all).
// The public message names no path; the internal one does. Other errors
// (nil too) are returned as they are.
func NotOrgdb(path string, err error) error {
	var se sqlite3.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, schema.ErrNotOrgdb):
	case errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt):
		err = fmt.Errorf("%w: it is not a SQLite database (%v)", schema.ErrNotOrgdb, err)
	default:
		return err
	}
	return orgdb.Validation("not an orgdb database; orgdb opens only its own databases").WithCause(err).
		WithInternalMessage("%s: %v; orgdb opens only its own databases: check the path; nothing was changed", path, err).
		WithReason(ReasonNotOrgdb)
}

// Busy reports whether err is SQLite's "database is locked" (or busy): a
// lock another process held past the busy timeout.
func Busy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// ReasonNoDatabase is the reason of the refusal of a database file that
// does not exist where one must ([NoDatabase]).
const ReasonNoDatabase = "no_database"

// NoDatabase is the one refusal (NOT_FOUND, reason no_database) of a
// command or an Open that needs the existing database at path and finds
// none: nothing creates one but `orgdb migrate` (and a restore with
// --create), so a typo'd path never leaves a new empty database behind.
// The public message names no path; the internal one does, with the
// command that creates the database.
func NoDatabase(path string) *orgdb.Error {
	return orgdb.NotFound("no orgdb database at the configured path").
		WithInternalMessage("no orgdb database at %s: check the path, or create it with `orgdb migrate --db %s`", path, path).
		WithReason(ReasonNoDatabase)
}
