package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
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

// Restore replaces the contents of the database at path with a copy of
// the backup at from, after checking that the copy is sound and that
// nothing has the database open. It never changes the database when it
// refuses, and whatever fails, path holds either every write acknowledged
// before the restore or the whole backup.
//
// The database file keeps its inode: the backup is copied into it with
// SQLite's online backup API, under SQLite's own locks, so a process that
// opens the database during the restore either waits and then works on
// the restored database, or, past its busy timeout, fails with
// UNAVAILABLE (reason database_locked); it never writes through the old
// file (which a restore by rename would leave it).
//
// In order, it:
//   - refuses a path on a LiteFS mount (NOT_PRIMARY on a replica; on the
//     primary VALIDATION_ERROR, reason on_litefs, pointing to litefs
//     import); a path or from that is not a regular file (a directory, a
//     FIFO, a device, a socket: VALIDATION_ERROR, reason
//     not_regular_file, before anything opens it) or the other's -wal,
//     -shm or -journal file (VALIDATION_ERROR); and a missing path
//     (NOT_FOUND, reason no_database) unless [CreateNew] is given. A path
//     that is a symbolic link is resolved: the file it points to is
//     restored, and the link stays;
//   - removes the stale temporary copies a killed backup or restore of
//     path left beside it (see [StaleCopies]);
//   - refuses (CONFLICT, reason in_use, naming the process when the
//     system says) if another process has the database open: the service,
//     an orgdb command, `litestream replicate`. The calling process must
//     not have path open itself;
//   - refuses an existing path that is not an orgdb database (a file that
//     is not SQLite, another application's database: VALIDATION_ERROR,
//     reason not_orgdb); an empty file counts as a new database;
//   - opens path with SQLite and takes an exclusive lock, held to the end
//     (CONFLICT in_use if another process holds the file past the busy
//     timeout), before anything below reads the backup;
//   - copies from (read-only, with SQLite's online backup API, so a -wal
//     beside it is included) into a temporary file (mode 0600) beside
//     path, path.partial-restore-*, and refuses (VALIDATION_ERROR, reason
//     bad_backup) a copy that is not a SQLite database, fails PRAGMA
//     integrity_check, is not an orgdb database, records a migration whose
//     checksum or name differs from this binary's, was migrated by a newer
//     orgdb (a version this binary does not have), or whose tables,
//     indexes, triggers and views differ from what its recorded
//     migrations create. An older backup is accepted: RestoreInfo.Pending
//     says how many migrations the next Open applies;
//   - checkpoints the database's WAL into the file (TRUNCATE), switches it
//     to a rollback journal and keeps a copy of it, every acknowledged
//     write in it, as path.bak-<UTC timestamp> (fsynced, and the directory
//     too);
//   - copies the checked copy into path in one transaction, whose rollback
//     journal undoes it if the process dies midway, and removes the
//     temporary copy.
//
// A new database (CreateNew, no file at path) is the checked copy linked
// into place. Errors are [*orgdb.Error]s and say "restore:".
func Restore(ctx context.Context, path, from string, opts ...RestoreOption) (RestoreInfo, error) {
	var c restoreConfig
	for _, o := range opts {
		o(&c)
	}
	start := time.Now()
	info, err := restore(ctx, path, from, c)
	if err != nil {
		return RestoreInfo{}, store.Translate(err, "restore "+path+" from "+from)
	}
	info.Duration = time.Since(start)
	return info, nil
}

// RestoreOption configures [Restore].
type RestoreOption func(*restoreConfig)

type restoreConfig struct {
	create bool
	hook   func(stage string) // tests: called at each stage of the copy into place
}

// withRestoreHook has [Restore] call f at each stage of the copy into
// place, with its lock held: "locked" (WAL checkpointed, exclusive lock
// taken), "kept" (the previous database kept), "copying" (back in the
// normal locking mode, the lock still held, the copy about to start),
// "copied" (the copy committed, the lock released).
func withRestoreHook(f func(stage string)) RestoreOption {
	return func(c *restoreConfig) { c.hook = f }
}

// CreateNew lets [Restore] write a database at a path where none exists.
// Without it a missing path is refused (NOT_FOUND, reason no_database):
// a mistyped path would otherwise quietly become a new database.
func CreateNew() RestoreOption { return func(c *restoreConfig) { c.create = true } }

// ReasonOnLiteFS is the reason of the refusal of a restore on the LiteFS
// primary, or of a backup written into a LiteFS mount: LiteFS replicates
// only what SQLite writes, and imports a whole file with `litefs import`.
const ReasonOnLiteFS = "on_litefs"

func restore(ctx context.Context, path, from string, c restoreConfig) (RestoreInfo, error) {
	if err := dbfile.CheckPath(path, "restore"); err != nil {
		return RestoreInfo{}, err
	}
	if err := dbfile.CheckPath(from, "restore: the backup"); err != nil {
		return RestoreInfo{}, err
	}
	// A symbolic link is followed: the database it points to is restored.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	} else if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return RestoreInfo{}, orgdb.NotFound("%s is a symbolic link to a missing file (%v): check the path (--db, $ORGDB_DB); nothing was changed", path, err).
			WithReason(dbfile.ReasonNoDatabase)
	}
	// LiteFS has no hard links, and a file written into its mount other
	// than by SQLite is not replicated: refused before anything is opened
	// or locked there.
	if m := litefs.MountOf(path); m != nil {
		r, err := m.ReadRole()
		if err != nil {
			return RestoreInfo{}, orgdb.Internal(err, "restore: %s: %v", path, err)
		}
		if !r.Primary {
			return RestoreInfo{}, litefs.NotPrimary(r)
		}
		return RestoreInfo{}, orgdb.Validation("restore refused: %s is on a LiteFS mount, where a restore would not be replicated; nothing was changed: "+
			"on the primary, import the backup with LiteFS instead: litefs import -name %s %s", path, filepath.Base(path), from).
			WithReason(ReasonOnLiteFS)
	}
	ffi, err := dbfile.Regular(from, "the backup (--from)")
	if err != nil {
		return RestoreInfo{}, err
	}
	if ffi == nil {
		return RestoreInfo{}, orgdb.NotFound("no backup at %s: check the path (--from); nothing was changed", from)
	}
	pfi, err := dbfile.Regular(path, "the database (--db)")
	if err != nil {
		return RestoreInfo{}, err
	}
	exists := pfi != nil
	if companion(from, path) || companion(path, from) {
		return RestoreInfo{}, orgdb.Validation("%s is the database %s itself or one of its -wal, -shm, -journal files: give a backup file; nothing was changed", from, path)
	}
	if !exists && !c.create {
		return RestoreInfo{}, orgdb.NotFound("no database at %s: check the path (--db, $ORGDB_DB); to restore into a new database there, pass --create; nothing was changed", path).
			WithReason(dbfile.ReasonNoDatabase)
	}
	sweepStale(path)
	if exists {
		if err := checkReplaceable(ctx, path); err != nil {
			return RestoreInfo{}, err
		}
	}

	tmp, err := newTempCopy(path, partialRestore)
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("restore: %w", err)
	}
	defer tmp.remove()
	hook := c.hook
	if hook == nil {
		hook = func(string) {}
	}
	// Locked before the backup is even read: a process that starts
	// writing at any moment of the restore waits, or is refused, rather
	// than writing into the database the restore then replaces.
	var lk *liveLock
	if exists {
		if lk, err = lockLive(ctx, path); err != nil {
			return RestoreInfo{}, err
		}
		defer lk.close()
		hook("locked")
	}
	pending, err := copyVerified(ctx, from, tmp.path)
	if err != nil {
		return RestoreInfo{}, err
	}
	size, err := syncFile(tmp.path)
	if err != nil {
		return RestoreInfo{}, fmt.Errorf("restore: %w", err)
	}
	info := RestoreInfo{Path: path, Bytes: size, Pending: pending}
	if !exists {
		return info, placeNew(tmp, path)
	}
	if info.Previous, err = lk.copyIn(ctx, tmp.path, hook); err != nil {
		return RestoreInfo{}, err
	}
	return info, nil
}

// checkReplaceable refuses, before the copy, a database another process
// has open (CONFLICT in_use) and a file that is not an orgdb database
// (VALIDATION_ERROR not_orgdb). A restore killed mid-copy left a hot
// rollback journal: it is rolled back first, by opening the file.
func checkReplaceable(ctx context.Context, path string) error {
	if _, err := os.Stat(path + "-journal"); err == nil {
		if err := rollBackJournal(ctx, path); err != nil {
			return err
		}
	}
	release, err := lockOut(path)
	if err != nil {
		if errors.Is(err, errInUse) {
			return inUse(err)
		}
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	// Read immutable: no lock (ours are held), no -wal or -shm created.
	return inspectLocked(ctx, path)
}

// inUse is the refusal of a restore while another process has the
// database open.
func inUse(err error) error {
	return orgdb.Wrap(orgdb.CodeConflict, err,
		"restore refused: %v (the orgdb service, an orgdb command or litestream replicate): stop it first "+
			"(e.g. systemctl stop orgdb, and the litestream sidecar), then run the restore again; nothing was changed", err).
		WithReason(ReasonInUse)
}

// rollBackJournal opens the database at path read-write and reads it, so
// that SQLite rolls back a hot journal (a restore killed mid-copy).
func rollBackJournal(ctx context.Context, path string) error {
	d := dbfile.Pool(dbfile.URI(path, "mode=rw&_busy_timeout=5000"), dbfile.PlainDriver())
	defer d.Close()
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema`).Scan(&n); err != nil {
		if dbfile.Busy(err) {
			return inUse(fmt.Errorf("%w: %v", errInUse, err))
		}
		return fmt.Errorf("restore: roll back the journal an interrupted restore left beside %s: %w", path, err)
	}
	return nil
}

// placeNew links the checked copy to path, where no database is, and
// fsyncs the directory; a file that appeared at path meanwhile is kept
// and the restore refused.
func placeNew(tmp *tempCopy, path string) error {
	if err := os.Link(tmp.path, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return orgdb.Conflict("restore refused: a database appeared at %s during the restore; nothing was changed: run the restore again", path).
				WithReason(ReasonInUse)
		}
		return fmt.Errorf("restore: move the copy into place: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return errors.Join(fmt.Errorf("restore: %w", err), os.Remove(path))
	}
	return nil
}

// liveLock is a restore's hold on the database it replaces: a connection
// to it that keeps an EXCLUSIVE lock (locking_mode EXCLUSIVE, then NORMAL
// for the copy's own transaction) from before the backup is read until
// the copy commits or close. Before the copy it checkpoints the WAL
// (TRUNCATE: every acknowledged write is then in the file) and switches
// the file to a rollback journal (the copy is then one transaction that
// a hot journal undoes if the process dies midway, whereas a WAL copy
// would need the -wal to be read). Nothing of this process
// opens the database otherwise meanwhile: closing any descriptor of the
// file would drop SQLite's fcntl locks.
type liveLock struct {
	path string
	db   *sql.DB
	c    *sql.Conn
}

// close releases the lock (if the copy has not).
func (l *liveLock) close() {
	l.c.Close()  // done with it; an error changes nothing now
	l.db.Close() // likewise
}

// lockLive takes the restore's lock on the database at path (see
// liveLock); CONFLICT in_use when another process holds the file past the
// busy timeout.
func lockLive(ctx context.Context, path string) (_ *liveLock, err error) {
	live := dbfile.Pool(dbfile.URI(path, "mode=rw&_busy_timeout=5000&_synchronous=FULL"), dbfile.PlainDriver())
	lc, err := live.Conn(ctx)
	if err != nil {
		live.Close()
		return nil, fmt.Errorf("restore: open %s: %w", path, err)
	}
	l := &liveLock{path: path, db: live, c: lc}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	locked := func(step string, err error) error {
		if dbfile.Busy(err) {
			return inUse(fmt.Errorf("%w: %s: another process holds %s (%v)", errInUse, step, path, err))
		}
		return fmt.Errorf("restore: %s of %s (nothing was changed): %w", step, path, err)
	}
	// The lock is retried while another process briefly holds the file
	// (a reader that opened it since the in-use check: `orgdb status`
	// from a cron job). Past schema.BusyTimeout it is in use.
	retry := func(step string, f func() error) error {
		if err := schema.RetryBusy(ctx, f); err != nil {
			return locked(step, err)
		}
		return nil
	}
	// The exclusive locking mode before the first access: the connection
	// then takes an EXCLUSIVE lock when it opens the WAL (or, in rollback
	// mode, at BEGIN EXCLUSIVE) and keeps it, and nothing in the file
	// changes until the backup has been checked (a refused restore leaves
	// it byte for byte as it was).
	if _, err := lc.ExecContext(ctx, `PRAGMA locking_mode = EXCLUSIVE`); err != nil {
		return nil, locked("lock", err)
	}
	if err := retry("lock", func() error {
		if _, err := lc.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
			return err
		}
		_, err := lc.ExecContext(ctx, `COMMIT`)
		return err
	}); err != nil {
		return nil, err
	}
	return l, nil
}

// toRollbackJournal checkpoints the locked database's WAL (TRUNCATE: every
// acknowledged write is then in the file) and switches it to a rollback
// journal.
func (l *liveLock) toRollbackJournal(ctx context.Context) error {
	var busy, log, done int
	if err := l.c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("restore: checkpoint the WAL of %s (nothing was changed): %w", l.path, err)
	}
	if busy != 0 {
		return fmt.Errorf("restore: checkpoint the WAL of %s (nothing was changed): it stayed busy", l.path)
	}
	var mode string
	if err := l.c.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil {
		return fmt.Errorf("restore: switch %s to a rollback journal (nothing was changed): %w", l.path, err)
	}
	if mode != "delete" {
		return fmt.Errorf("restore: switch %s to a rollback journal (nothing was changed): its journal mode stayed %s", l.path, mode)
	}
	return nil
}

// copyIn copies the checked database at tmp into the locked database,
// after keeping it as path.bak-<timestamp>, whose name it returns.
func (l *liveLock) copyIn(ctx context.Context, tmp string, hook func(string)) (prev string, err error) {
	path, lc := l.path, l.c
	if err := inspectConn(ctx, lc, path); err != nil {
		return "", err
	}
	if err := l.toRollbackJournal(ctx); err != nil {
		return "", err
	}
	if prev, err = keepPrevious(ctx, lc, path); err != nil {
		return "", err
	}
	hook("kept")
	// Back to the normal locking mode before the copy: the lock is kept
	// until the copy's transaction ends (SQLite releases it at the next
	// access), and that transaction commits by deleting its journal. In
	// the exclusive mode it would zero the journal's header instead and
	// then fsync it, and a failed fsync left the copy committed but
	// reported as failed. SQLite may still report a failure after the
	// deletion (truncating the file, fsyncing the directory):
	// afterFailedCopy tells what the file holds.
	if _, err := lc.ExecContext(ctx, `PRAGMA locking_mode = NORMAL`); err != nil {
		return "", fmt.Errorf("restore: copy into %s (nothing was changed; the previous database is also kept as %s): %w", path, prev, err)
	}
	hook("copying")
	src := dbfile.Pool(dbfile.URI(tmp, "mode=ro"), dbfile.PlainDriver())
	defer src.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("restore: open the checked copy %s (nothing was changed; the previous database is also kept as %s): %w", tmp, prev, err)
	}
	defer sc.Close()
	err = lc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			scn, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return fmt.Errorf("connections are %T and %T, want go-sqlite3's", d, s)
			}
			return stepAll(ctx, dc, scn)
		})
	})
	if err != nil {
		// SQLite reports some failures after the commit point (the
		// journal deleted): truncating the file to its new size, fsyncing
		// the directory. What the file holds decides what to say.
		sc.Close()
		lc.Close()
		return "", afterFailedCopy(ctx, path, tmp, prev, err)
	}
	hook("copied")
	return prev, nil
}

// afterFailedCopy is the error of a copy into path that failed with
// cause, its connection closed: a hot journal is rolled back, and the
// file compared with the copy at tmp. If the copy had committed (only a
// step after SQLite's commit point failed), the directory is fsynced and
// the restore succeeds when that works.
func afterFailedCopy(ctx context.Context, path, tmp, prev string, cause error) error {
	if _, err := os.Stat(path + "-journal"); err == nil {
		if err := rollBackJournal(ctx, path); err != nil {
			return fmt.Errorf("restore: copy into %s failed, and rolling it back failed too: %w; the next process that opens it rolls it back; "+
				"the previous database is also kept as %s", path, errors.Join(cause, err), prev)
		}
	}
	same, err := sameDatabase(path, tmp)
	if err != nil {
		return fmt.Errorf("restore: copy into %s failed, and what it holds now is unknown: %w; the previous database is kept as %s: check the disk, then restore again",
			path, errors.Join(cause, err), prev)
	}
	if !same {
		return fmt.Errorf("restore: copy into %s (nothing was changed; the previous database is also kept as %s): %w", path, prev, cause)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("restore: the backup was copied into %s, but %v, so a crash could still undo it: %w; "+
			"check the disk, then run the restore again (the previous database is kept as %s)", path, cause, err, prev)
	}
	return nil
}

// sameDatabase reports whether the database file at a holds the pages of
// the database file at b (a restored copy of it): the same page size and
// pages, up to b's page count, except the header's change counter, schema
// cookie and version-valid-for number, which a commit sets. Pages past
// b's count (a truncation that failed after the commit) are not read.
func sameDatabase(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	hb := make([]byte, 100)
	if _, err := io.ReadFull(fb, hb); err != nil {
		return false, fmt.Errorf("read %s: %w", b, err)
	}
	pageSize := int64(hb[16])<<8 | int64(hb[17])
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(hb[28])<<24 | int64(hb[29])<<16 | int64(hb[30])<<8 | int64(hb[31])
	pa, pb := make([]byte, pageSize), make([]byte, pageSize)
	for i := int64(0); i < pages; i++ {
		if _, err := fb.ReadAt(pb, i*pageSize); err != nil {
			return false, fmt.Errorf("read %s: %w", b, err)
		}
		if _, err := fa.ReadAt(pa, i*pageSize); errors.Is(err, io.EOF) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("read %s: %w", a, err)
		}
		if i == 0 {
			for _, r := range [][2]int{{24, 28}, {40, 44}, {92, 96}} {
				copy(pa[r[0]:r[1]], pb[r[0]:r[1]])
			}
		}
		if !bytes.Equal(pa, pb) {
			return false, nil
		}
	}
	return true, nil
}

// stepAll copies the whole database sc reads into dc in one step: one
// transaction on dc.
func stepAll(ctx context.Context, dc, sc *sqlite3.SQLiteConn) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := dc.Backup("main", sc, "main")
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer func() {
		if ferr := b.Finish(); ferr != nil && err == nil {
			err = fmt.Errorf("finish: %w", ferr)
		}
	}()
	done, err := b.Step(-1)
	if err != nil {
		return err
	}
	if !done {
		return errors.New("the copy did not finish in one step")
	}
	return nil
}

// inspectConn is inspect on the connection that holds the database's
// lock: only an orgdb database is replaced (an empty one is new).
func inspectConn(ctx context.Context, c *sql.Conn, path string) error {
	var hasTable bool
	var others int
	err := c.QueryRowContext(ctx, `SELECT
	  EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'),
	  (SELECT COUNT(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT GLOB '`+schema.OthersGlob+`')`).Scan(&hasTable, &others)
	if err != nil {
		return dbfile.NotOrgdb(path, fmt.Errorf("restore: read the schema: %w", err))
	}
	if !hasTable && others > 0 {
		return dbfile.NotOrgdb(path, fmt.Errorf("%w: it has %d schema objects but no schema_migrations table", schema.ErrNotOrgdb, others))
	}
	return nil
}

// keepPrevious copies the database c holds (locked, its WAL checkpointed)
// with the online backup API through c into a temporary file,
// path.partial-previous-*, fsyncs it, links it to path.bak-<UTC
// timestamp> (with a counter if that exists) and fsyncs the directory: a
// .bak file is always whole. It returns the .bak file's name. Whatever
// fails, the partial copy is removed and nothing else changed.
func keepPrevious(ctx context.Context, c *sql.Conn, path string) (string, error) {
	tmp, err := newTempCopy(path, partialPrevious)
	if err != nil {
		return "", fmt.Errorf("restore: keep the previous database (nothing was changed): %w", err)
	}
	defer tmp.remove()
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("restore: keep the previous database (nothing was changed): %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		if err := sameOwner(tmp.path, fi); err != nil { // run as root: the service's user's
			return fail(fmt.Errorf("give the copy the owner of %s: %w", path, err))
		}
	}
	err = c.Raw(func(s any) error {
		sc, ok := s.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("connection is %T, want go-sqlite3's", s)
		}
		bdb := dbfile.Pool(dbfile.URI(tmp.path, "_journal_mode=OFF&_synchronous=OFF"), dbfile.PlainDriver())
		defer bdb.Close()
		bc, err := bdb.Conn(ctx)
		if err != nil {
			return err
		}
		defer bc.Close()
		err = bc.Raw(func(d any) error {
			dc, ok := d.(*sqlite3.SQLiteConn)
			if !ok {
				return fmt.Errorf("connection is %T, want go-sqlite3's", d)
			}
			return stepAll(ctx, dc, sc)
		})
		if err != nil {
			return err
		}
		_, err = bc.ExecContext(ctx, `PRAGMA journal_mode = DELETE`)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if _, err := syncFile(tmp.path); err != nil {
		return fail(err)
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		bak := path + ".bak-" + stamp
		if i > 0 {
			bak = fmt.Sprintf("%s-%d", bak, i)
		}
		err := os.Link(tmp.path, bak)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return fail(err)
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			// Not known to be durable: not a .bak to count on.
			return "", errors.Join(fmt.Errorf("restore: keep the previous database as %s (nothing was changed): %w", bak, err), os.Remove(bak))
		}
		return bak, nil
	}
}

// copyVerified copies the database at from into the empty file tmp and
// checks the copy: SQLite, integrity, orgdb migrations this binary can
// run. It returns how many of this binary's migrations the copy lacks.
func copyVerified(ctx context.Context, from, tmp string) (int, error) {
	dsn, err := dbfile.ReadOnlyDSN(ctx, from, true)
	if err != nil {
		return 0, badBackup(from, err)
	}
	src := dbfile.Pool(dsn, dbfile.PlainDriver())
	defer src.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return 0, badBackup(from, err)
	}
	defer sc.Close()
	if err := copyDB(ctx, sc, tmp, "restore", 0, nil); err != nil {
		return 0, badBackup(from, err)
	}
	cdb := dbfile.Pool(dbfile.URI(tmp, "mode=ro&_query_only=1"), dbfile.PlainDriver())
	defer cdb.Close()
	// The copy is this process's own file and passed integrity_check:
	// what StatusOf cannot read is the backup's fault.
	st, err := schema.StatusOf(ctx, cdb, schema.FS())
	if err != nil {
		return 0, refuseBackup(from, err)
	}
	pending, err := checkMigrations(from, st)
	if err != nil {
		return 0, err
	}
	highest := 0
	for _, s := range st {
		if s.Applied {
			highest = s.Version
		}
	}
	if err := checkCatalog(ctx, from, cdb, highest); err != nil {
		return 0, err
	}
	return pending, nil
}

// checkCatalog refuses (bad_backup) a copy whose schema (tables, indexes,
// triggers, views: their names and SQL) differs from the one its recorded
// migrations create: those migrations, up to version, are applied to a
// new database in a temporary directory and the two catalogs compared.
// The records alone are not the schema: a table dropped by hand, with
// schema_migrations unchanged, made every writing Open fail afterwards.
func checkCatalog(ctx context.Context, from string, cdb *sql.DB, version int) error {
	dir, err := os.MkdirTemp("", "orgdb-restore-catalog-")
	if err != nil {
		return fmt.Errorf("restore: check the backup's schema: %w", err)
	}
	defer os.RemoveAll(dir)
	scratch := dbfile.Pool(dbfile.DSN(filepath.Join(dir, "migrated.db")), dbfile.PlainDriver())
	defer scratch.Close()
	if _, err := schema.Migrate(ctx, scratch, schema.UpTo(schema.FS(), version)); err != nil {
		return fmt.Errorf("restore: check the backup's schema: migrate a scratch database to %04d: %w", version, err)
	}
	want, err := catalogOf(ctx, scratch)
	if err != nil {
		return fmt.Errorf("restore: check the backup's schema: %w", err)
	}
	got, err := catalogOf(ctx, cdb)
	if err != nil {
		return refuseBackup(from, err)
	}
	var diffs []string
	for k, sqlText := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, k+" is missing")
		case g != sqlText:
			diffs = append(diffs, k+" differs")
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, k+" is not orgdb's")
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	slices.Sort(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return refuseBackup(from, fmt.Errorf("its schema is not the one its migrations (up to %04d) create: %s: it was changed by hand or damaged", version, strings.Join(diffs, "; ")))
}

// catalogOf is the schema of a database: "type name" → SQL, without
// SQLite's own objects (sqlite_*: autoindexes, sqlite_sequence, the
// statistics ANALYZE writes) and the tables of other tools (OthersGlob).
func catalogOf(ctx context.Context, d *sql.DB) (map[string]string, error) {
	rows, err := d.QueryContext(ctx, `SELECT type, name, COALESCE(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' AND tbl_name NOT GLOB '`+schema.OthersGlob+`'`)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			return nil, fmt.Errorf("read the schema: %w", err)
		}
		out[typ+" "+name] = text
	}
	return out, rows.Err()
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
