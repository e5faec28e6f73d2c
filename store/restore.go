package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/schema"
	"github.com/mattn/go-sqlite3"
)

// RestoreInfo is what [Restore] did.
type RestoreInfo struct {
	Path     string // the database, now the restored copy
	Previous string // where the database it replaced was kept ("" if there was none)
	Bytes    int64  // the size of the restored file
	// Pending is how many of this binary's migrations the restored file
	// lacks (an older backup): the next Open applies them.
	Pending  int
	Duration time.Duration
}

// Restore replaces the database at path with a copy of the backup at
// from, after checking that the copy is sound and that nothing has the
// database open. It never changes the database when it refuses.
//
// In order, it:
//   - refuses a path on a LiteFS mount (NOT_PRIMARY on a replica; on the
//     primary VALIDATION_ERROR, reason on_litefs, pointing to litefs
//     import), a path or from that is a directory or the other's -wal,
//     -shm or -journal file (VALIDATION_ERROR), and a missing path
//     (NOT_FOUND, reason no_database) unless [CreateNew] is given;
//   - takes write locks on SQLite's lock bytes of path and its -shm file,
//     and refuses (CONFLICT, reason in_use, naming the process when the
//     system says) if another process has the database open: the
//     service, an orgdb command, `litestream replicate`. The locks are held
//     to the end, so nothing opens it meanwhile. The calling process must
//     not have path open itself;
//   - refuses an existing path that is not an orgdb database (a file that
//     is not SQLite, another application's database: VALIDATION_ERROR,
//     reason not_orgdb); an empty file counts as a new database;
//   - copies from (read-only, with SQLite's online backup API, so a -wal
//     beside it is included) into a temporary file (mode 0600) beside path,
//     and refuses (VALIDATION_ERROR, reason bad_backup) a copy that is not
//     a SQLite database, fails PRAGMA integrity_check, is not an orgdb
//     database, records a migration whose checksum or name differs from
//     this binary's, or was migrated by a newer orgdb (a version this
//     binary does not have). An older backup is accepted: RestoreInfo.Pending
//     says how many migrations the next Open applies;
//   - fsyncs the copy and, run as root, gives it the owner and group of
//     the file it replaces; keeps the current database as
//     path.bak-<UTC timestamp> (a hard link, with its -wal or -journal
//     beside it under the same name), removes path's -wal, -journal and
//     -shm, renames the copy to path and fsyncs the directory.
//
// Errors are [*orgdb.Error]s; whatever fails, path is as it was and the
// temporary file is removed.
func Restore(ctx context.Context, path, from string, opts ...RestoreOption) (RestoreInfo, error) {
	var c restoreConfig
	for _, o := range opts {
		o(&c)
	}
	start := time.Now()
	info, err := restore(ctx, path, from, c)
	if err != nil {
		return RestoreInfo{}, Translate(err, "restore "+path+" from "+from)
	}
	info.Duration = time.Since(start)
	return info, nil
}

// RestoreOption configures [Restore].
type RestoreOption func(*restoreConfig)

type restoreConfig struct{ create bool }

// CreateNew lets [Restore] write a database at a path where none exists.
// Without it a missing path is refused (NOT_FOUND, reason no_database):
// a mistyped path would otherwise quietly become a new database.
func CreateNew() RestoreOption { return func(c *restoreConfig) { c.create = true } }

// ReasonOnLiteFS is the reason of the refusal of a restore on the LiteFS
// primary, or of a backup written into a LiteFS mount: LiteFS replicates
// only what SQLite writes, and imports a whole file with `litefs import`.
const ReasonOnLiteFS = "on_litefs"

func restore(ctx context.Context, path, from string, c restoreConfig) (RestoreInfo, error) {
	for _, p := range []string{path, from} {
		if p == "" || p == ":memory:" || strings.HasPrefix(p, "file:") {
			return RestoreInfo{}, orgdb.Validation("path %q: want the path of a file", p)
		}
	}
	// LiteFS has no hard links, and a file renamed into its mount is not
	// replicated: refused before anything is opened or locked there.
	if m := liteFSMountOf(path); m != nil {
		r, err := m.role()
		if err != nil {
			return RestoreInfo{}, orgdb.Internal(err, "%s: %v", path, err)
		}
		if !r.Primary {
			return RestoreInfo{}, notPrimary(r)
		}
		return RestoreInfo{}, orgdb.Validation("restore refused: %s is on a LiteFS mount, where a restore would not be replicated; nothing was changed: "+
			"on the primary, import the backup with LiteFS instead: litefs import -name %s %s", path, filepath.Base(path), from).
			WithReason(ReasonOnLiteFS)
	}
	ffi, err := os.Stat(from)
	if errors.Is(err, fs.ErrNotExist) {
		return RestoreInfo{}, orgdb.NotFound("no backup at %s: check the path (--from); nothing was changed", from)
	}
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("restore: %w", err)
	}
	if ffi.IsDir() {
		return RestoreInfo{}, orgdb.Validation("%s is a directory: give the backup file (--from); nothing was changed", from)
	}
	pfi, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return RestoreInfo{}, fmt.Errorf("restore: %w", err)
	}
	if exists && pfi.IsDir() {
		return RestoreInfo{}, orgdb.Validation("%s is a directory: give the database file (--db), e.g. %s; nothing was changed", path, filepath.Join(path, "orgdb.db"))
	}
	if companion(from, path) || companion(path, from) {
		return RestoreInfo{}, orgdb.Validation("%s is the database %s itself or one of its -wal, -shm, -journal files: give a backup file; nothing was changed", from, path)
	}
	if !exists && !c.create {
		return RestoreInfo{}, orgdb.NotFound("no database at %s: check the path (--db, $ORGDB_DB); to restore into a new database there, pass --create; nothing was changed", path).
			WithReason(ReasonNoDatabase)
	}
	release, err := lockOut(path)
	if err != nil {
		if errors.Is(err, errInUse) {
			return RestoreInfo{}, orgdb.Wrap(orgdb.CodeConflict, err,
				"restore refused: %v (the orgdb service, an orgdb command or litestream replicate): stop it first "+
					"(e.g. systemctl stop orgdb, and the litestream sidecar), then run the restore again; nothing was changed", err).
				WithReason(ReasonInUse)
		}
		return RestoreInfo{}, err
	}
	defer release()
	if exists {
		// Only an orgdb database is replaced (an empty file is a new one).
		// Read immutable: no lock (ours are held), no -wal or -shm created.
		if err := inspectLocked(ctx, path); err != nil {
			return RestoreInfo{}, err
		}
	}

	dir := filepath.Dir(path)
	tmp, err := createPrivate(dir, filepath.Base(path)+".restore-*")
	if err != nil {
		return RestoreInfo{}, err
	}
	placed := false
	defer func() {
		if !placed {
			removeDB(tmp)
		}
	}()
	pending, err := copyVerified(ctx, from, tmp)
	if err != nil {
		return RestoreInfo{}, err
	}
	if exists {
		// The service's user must still own its database when root restores.
		if err := sameOwner(tmp, pfi); err != nil {
			return RestoreInfo{}, fmt.Errorf("restore: give the copy the owner of %s (nothing was changed): %w", path, err)
		}
	}
	size, err := syncFile(tmp)
	if err != nil {
		return RestoreInfo{}, err
	}
	info := RestoreInfo{Path: path, Bytes: size, Pending: pending}
	if exists {
		if info.Previous, err = keepPrevious(path); err != nil {
			return RestoreInfo{}, err
		}
	}
	// Nothing of the old database may stay beside the new one: SQLite
	// would replay an old -wal onto it.
	for _, suffix := range []string{"-wal", "-journal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return RestoreInfo{}, fmt.Errorf("restore: remove %s%s (the previous database is kept as %s): %w", path, suffix, info.Previous, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return RestoreInfo{}, fmt.Errorf("restore: move the copy into place (the previous database is kept as %s): %w", info.Previous, err)
	}
	placed = true
	return info, syncDir(dir)
}

// keepPrevious hard-links the database at path, and its -wal or -journal,
// to path.bak-<UTC timestamp> (with a counter if that exists) and returns
// that name.
func keepPrevious(path string) (string, error) {
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		bak := path + ".bak-" + stamp
		if i > 0 {
			bak = fmt.Sprintf("%s-%d", bak, i)
		}
		err := os.Link(path, bak)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("restore: keep the previous database as %s: %w", bak, err)
		}
		for _, suffix := range []string{"-wal", "-journal"} {
			err := os.Link(path+suffix, bak+suffix)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("restore: keep the previous database's %s as %s%s: %w", suffix, bak, suffix, err)
			}
		}
		return bak, nil
	}
}

// copyVerified copies the database at from into the empty file tmp and
// checks the copy: SQLite, integrity, orgdb migrations this binary can
// run. It returns how many of this binary's migrations the copy lacks.
func copyVerified(ctx context.Context, from, tmp string) (int, error) {
	dsn, err := schema.ReadOnlyDSN(ctx, from, true)
	if err != nil {
		return 0, badBackup(from, err)
	}
	src := sql.OpenDB(newConnector(dsn, plainDriver()))
	defer src.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return 0, badBackup(from, err)
	}
	defer sc.Close()
	if err := copyDB(ctx, sc, tmp, 0, nil); err != nil {
		return 0, badBackup(from, err)
	}
	cdb, err := sql.Open("sqlite3", fileDSN(tmp, "mode=ro&_query_only=1"))
	if err != nil {
		return 0, err
	}
	defer cdb.Close()
	// The copy is this process's own file and passed integrity_check:
	// what StatusOf cannot read is the backup's fault.
	st, err := schema.StatusOf(ctx, cdb, schema.FS())
	if err != nil {
		return 0, refuseBackup(from, err)
	}
	return checkMigrations(from, st)
}

// checkMigrations refuses a backup whose migrations this binary cannot
// run and counts the pending ones.
func checkMigrations(from string, st []schema.Status) (int, error) {
	pending, highest, known := 0, 0, 0
	for _, s := range st {
		if s.File != "" {
			known = s.Version
		}
		if s.Applied {
			highest = s.Version
		}
	}
	for _, s := range st {
		switch {
		case s.Applied && s.File == "":
			return 0, refuseBackup(from, fmt.Errorf("it was migrated by a newer orgdb (migration %04d_%s is applied; this binary knows migrations up to %04d): restore it with that orgdb, or choose an older backup",
				s.Version, s.RecordedName, known))
		case s.Edited():
			return 0, refuseBackup(from, fmt.Errorf("migration %s is recorded with sha256 %s and name %q, which is not this binary's file (sha256 %s): the backup was edited or comes from another build of orgdb",
				s.File, s.RecordedSHA256, s.RecordedName, s.SHA256))
		case !s.Applied && s.Version < highest:
			return 0, refuseBackup(from, fmt.Errorf("migration %s is not applied but %04d is: the backup's history differs from this binary's", s.File, highest))
		case !s.Applied:
			pending++
		}
	}
	if highest == 0 {
		return 0, refuseBackup(from, errors.New("it has no applied migration: it is not an orgdb database"))
	}
	return pending, nil
}

// badBackup is the refusal of a file that cannot be restored when err's
// cause is in the file (not SQLite, damaged, not orgdb); any other failure
// (the disk, a cancelled context) is returned as it is.
func badBackup(from string, err error) error {
	var se sqlite3.Error
	if errors.Is(err, errCorrupt) || errors.Is(err, schema.ErrNotOrgdb) ||
		(errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrFormat || se.Code == sqlite3.ErrRange)) {
		return refuseBackup(from, err)
	}
	return err
}

// refuseBackup is the refusal of a file that cannot be restored.
func refuseBackup(from string, err error) error {
	return orgdb.Wrap(orgdb.CodeValidation, err, "restore refused: %s cannot be restored: %v; nothing was changed", from, err).
		WithReason(ReasonBadBackup)
}
