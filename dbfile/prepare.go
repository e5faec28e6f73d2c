package dbfile

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/schema"
)

// ReasonReadOnlyFS is the reason of the INTERNAL_ERROR of opening for
// writing a database on a read-only file system (a read-only mount).
const ReasonReadOnlyFS = "read_only_file_system"

// PrepareWriter is what every writer of the file at path does before it
// opens it with [DSN], the store's Open and `orgdb migrate` alike: path
// must be the path of a file ([CheckPath]) that is a regular file if it
// exists ([Regular]); a file that is not orgdb's is refused before orgdb's
// DSN would switch it to WAL ([NotOrgdb]); a lock held past the busy
// timeout (another process, such as a restore, holds the file) is returned
// as SQLite's error ([Busy] tells it), so that nothing opens a file it
// cannot read yet; a read-only mount is refused plainly, before SQLite
// fails with "unable to open database file" (INTERNAL_ERROR, reason
// read_only_file_system); and a missing file is created 0600 (its -wal and
// -shm files take its mode) in a directory that must exist. what names
// the operation in errors ("open orgdb", "migrate").
func PrepareWriter(ctx context.Context, path, what string) error {
	if err := CheckPath(path, what); err != nil {
		return err
	}
	if _, err := Regular(path, "the database"); err != nil {
		return err
	}
	if _, err := Check(ctx, path); errors.Is(err, schema.ErrNotOrgdb) || Busy(err) {
		return err
	}
	if ReadOnlyFS(path) {
		return orgdb.Internal(ErrReadOnlyFS, "%s %s for writing: %v (a read-only mount): commands that only read it work; "+
			"to write, remount the file system read-write", what, path, ErrReadOnlyFS).WithReason(ReasonReadOnlyFS)
	}
	// Created 0600 before SQLite creates it 0644 less the umask.
	if err := privfile.EnsureFile(path); errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		return orgdb.Internal(err, "the directory %s does not exist: create it first, private to the service's user (mkdir -m 700 %s)", dir, dir)
	} else if err != nil {
		return err
	}
	return nil
}
