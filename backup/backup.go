package backup

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// Reasons of Backup's and Restore's refusals, in orgdb.Error.Reason.
const (
	ReasonBackupExists = "backup_exists" // Backup: the target exists and Overwrite was not given
	ReasonInUse        = "in_use"        // Restore: another process has the database open
	ReasonBadBackup    = "bad_backup"    // Restore: the file is not a sound orgdb database this binary can run
)

// Option configures [FromStore] and [File].
type Option func(*backupConfig)

type backupConfig struct {
	overwrite bool
	progress  func(done, total int64)
	stepPages int // pages per step; 0: backupStepPages
}

// withBackupStep sets the pages one step copies (tests take many steps).
func withBackupStep(pages int) Option { return func(c *backupConfig) { c.stepPages = pages } }

// Overwrite lets a backup replace an existing file at the target
// path. Without it an existing file is refused (CONFLICT backup_exists).
func Overwrite() Option { return func(c *backupConfig) { c.overwrite = true } }

// WithProgress has a backup call f with the bytes copied so far and
// the size of the database, after every step of the copy (a few MiB) and
// once at the end. f runs on the backup's goroutine.
func WithProgress(f func(done, total int64)) Option {
	return func(c *backupConfig) { c.progress = f }
}

// Info is what a backup wrote.
type Info struct {
	Path     string        // the backup file
	Bytes    int64         // its size
	Duration time.Duration // from start to the rename into place
}

// backupStepPages is how many pages one step of the online backup copies
// (4 MiB of 4 KiB pages): the unit of progress and of cancellation.
const backupStepPages = 1024

// FromStore writes a consistent copy of st's database to path while the
// store, and other processes, keep reading and writing it: every table as
// of one instant, the snapshot of one read transaction.
//
// It copies with SQLite's online backup API, page by page, inside one read
// transaction on one of st's reader connections (so writers are never blocked and the
// copy never restarts), into a temporary file beside path (mode 0600); it
// then switches the copy to rollback-journal mode (a standalone file that
// needs no -wal or -shm to be read), runs PRAGMA integrity_check on it,
// fsyncs it, moves it into place and fsyncs the directory. A missing
// directory is created with mode 0700. Whatever fails, path is untouched
// and the temporary file removed.
//
// An existing path is refused (CONFLICT, reason backup_exists) unless
// [Overwrite] is given; path must not be the database itself nor its
// -wal, -shm or -journal file (VALIDATION_ERROR), nor inside a LiteFS mount
// (VALIDATION_ERROR, reason on_litefs). Errors are
// [*orgdb.Error]s. FromStore works on a [store.ReadOnly] store too.
func FromStore(ctx context.Context, st *store.Store, path string, opts ...Option) (Info, error) {
	var c backupConfig
	for _, o := range opts {
		o(&c)
	}
	start := time.Now()
	info, err := fromStore(ctx, st, path, c)
	if err != nil {
		return Info{}, store.Translate(err, "backup to "+path)
	}
	info.Duration = time.Since(start)
	return info, nil
}

func fromStore(ctx context.Context, st *store.Store, path string, c backupConfig) (Info, error) {
	src, err := st.ReadDB().Conn(ctx)
	if err != nil {
		return Info{}, err
	}
	defer src.Close()
	return backupFrom(ctx, src, path, c)
}

// File is [FromStore] for a database no store in this process
// has open, such as the service's, from another process: it reads the
// file at path through a read-only connection of its own, changing none
// of its contents (no migration, no journal-mode switch, no checkpoint;
// SQLite may leave an empty -wal and -shm beside a database no process had
// open), and writes the copy to "to". A database with pending
// migrations can be backed up (before migrating it, say). A missing file
// is NOT_FOUND (reason no_database); another application's SQLite file is
// VALIDATION_ERROR (reason not_orgdb).
func File(ctx context.Context, path, to string, opts ...Option) (Info, error) {
	var c backupConfig
	for _, o := range opts {
		o(&c)
	}
	start := time.Now()
	info, err := backupFile(ctx, path, to, c)
	if err != nil {
		return Info{}, store.Translate(err, "backup "+path+" to "+to)
	}
	info.Duration = time.Since(start)
	return info, nil
}

func backupFile(ctx context.Context, path, to string, c backupConfig) (Info, error) {
	if err := refuseLiteFSTarget(to); err != nil { // before the source is opened
		return Info{}, err
	}
	if fi, err := dbfile.Regular(path, "the database (--db)"); err != nil {
		return Info{}, err
	} else if fi == nil {
		return Info{}, dbfile.NoDatabase(path)
	}
	if err := inspect(ctx, path); errors.Is(err, fs.ErrNotExist) {
		return Info{}, dbfile.NoDatabase(path)
	} else if err != nil {
		return Info{}, err
	}
	dsn, err := dbfile.ReadOnlyDSN(ctx, path, true)
	if err != nil {
		return Info{}, err
	}
	d := dbfile.Pool(dsn, dbfile.PlainDriver())
	defer d.Close()
	src, err := d.Conn(ctx)
	if err != nil {
		return Info{}, err
	}
	defer src.Close()
	return backupFrom(ctx, src, to, c)
}

// backupFrom writes the backup of the database src reads to path.
func backupFrom(ctx context.Context, src *sql.Conn, path string, c backupConfig) (Info, error) {
	if err := dbfile.CheckPath(path, "backup"); err != nil {
		return Info{}, err
	}
	if err := refuseLiteFSTarget(path); err != nil {
		return Info{}, err
	}
	if err := refuseTarget(ctx, src, path, c.overwrite); err != nil {
		return Info{}, err
	}
	sweepStale(path)
	tmp, err := newTempCopy(path, partialBackup)
	if err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	defer tmp.remove()
	if err := copyDB(ctx, src, tmp.path, "backup", c.stepPages, c.progress); err != nil {
		return Info{}, err
	}
	size, err := syncFile(tmp.path)
	if err != nil {
		return Info{}, err
	}
	if c.overwrite {
		// Checked again just before the rename: a database in use is never
		// replaced.
		release, err := refuseLive(path)
		if err != nil {
			return Info{}, err
		}
		defer release()
	}
	if err := place(tmp.path, path, c.overwrite); err != nil {
		return Info{}, err
	}
	tmp.keep()
	return Info{Path: path, Bytes: size}, syncDir(filepath.Dir(path))
}

// ReasonLiveDatabase is the reason of the refusal of a backup over a
// database in use: one another process has open, or with a -wal or -shm
// file beside it.
const ReasonLiveDatabase = "live_database"

// refuseLive refuses (CONFLICT, reason live_database) to replace the file
// at path when it is a database in use: another process has it open, or a
// -wal or -shm file is beside it (writes not yet in the file, or a
// process that may still open it). It returns the function that releases
// the locks that keep other processes out until the caller is done.
func refuseLive(path string) (func(), error) {
	if fi, err := dbfile.Regular(path, "the target (--to)"); err != nil || fi == nil {
		return func() {}, err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(path + suffix); err == nil {
			return nil, orgdb.Conflict("backup refused: %s has a %s file beside it: it is a database in use (or was not closed cleanly), not an old backup; "+
				"check --to (did you mean --db?); nothing was written", path, suffix).WithReason(ReasonLiveDatabase)
		}
	}
	release, err := lockOut(path)
	if errors.Is(err, errInUse) {
		return nil, orgdb.Wrap(orgdb.CodeConflict, err, "backup refused: %v: %s is a database in use, not an old backup; check --to (did you mean --db?); nothing was written", err, path).
			WithReason(ReasonLiveDatabase)
	}
	if errors.Is(err, fs.ErrPermission) {
		// A file this process may not write (a read-only old backup) is no
		// database it could be replacing under a writer of its own user.
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return release, nil
}

// refuseLiteFSTarget refuses a backup target inside a LiteFS mount: LiteFS
// has no hard links and replicates only what SQLite writes, so a backup
// belongs outside it. Checked before anything is created.
func refuseLiteFSTarget(path string) error {
	if m := litefs.MountOf(path); m != nil {
		return orgdb.Validation("backup refused: %s is inside the LiteFS mount %s, which holds only the replicated database; "+
			"write the backup outside the mount (e.g. beside LiteFS's data directory); nothing was written", path, m.Dir()).
			WithReason(ReasonOnLiteFS)
	}
	return nil
}

// refuseTarget refuses a path that is the database itself or one of its
// -wal, -shm, -journal files, a directory, or (without overwrite) an
// existing file.
func refuseTarget(ctx context.Context, src *sql.Conn, path string, overwrite bool) error {
	var seq int
	var name, file string
	if err := src.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		return fmt.Errorf("backup: the database's path: %w", err)
	}
	if file != "" && companion(path, file) {
		return orgdb.Validation("%s is the database %s itself or one of its -wal, -shm, -journal files: give another path; nothing was written", path, file)
	}
	fi, err := dbfile.Regular(path, "the target (--to)")
	if err != nil || fi == nil {
		return err
	}
	if !overwrite {
		return orgdb.Conflict("%s already exists: pass --force to replace it, or choose another path", path).
			WithReason(ReasonBackupExists)
	}
	release, err := refuseLive(path)
	if err != nil {
		return err
	}
	release()
	return nil
}

// dbFileSuffixes are the files SQLite keeps beside a database.
var dbFileSuffixes = []string{"-wal", "-shm", "-journal"}

// companion reports whether p names the database db or one of the files
// SQLite keeps beside it (-wal, -shm, -journal): by name, or because it is
// the same file under another name.
func companion(p, db string) bool {
	ap, err1 := filepath.Abs(p)
	adb, err2 := filepath.Abs(db)
	if err1 != nil || err2 != nil {
		ap, adb = filepath.Clean(p), filepath.Clean(db)
	}
	pfi, perr := os.Stat(p)
	for _, suffix := range append([]string{""}, dbFileSuffixes...) {
		if ap == adb+suffix {
			return true
		}
		if fi, err := os.Stat(db + suffix); perr == nil && err == nil && os.SameFile(pfi, fi) {
			return true
		}
	}
	return false
}

// inspect checks that the existing file at path is an orgdb database (or
// an empty file, a new one) without changing it: another application's
// SQLite file, or a file that is not SQLite, is VALIDATION_ERROR (reason
// not_orgdb). A missing file is an error wrapping fs.ErrNotExist.
func inspect(ctx context.Context, path string) error {
	_, err := dbfile.Check(ctx, path)
	return err
}

// inspectLocked is inspect for a database whose lock bytes this process
// holds (lockOut): it reads the file as immutable, taking no lock and
// creating no -wal or -shm file.
func inspectLocked(ctx context.Context, path string) error {
	d := dbfile.Pool(dbfile.URI(path, "mode=ro&immutable=1"), dbfile.PlainDriver())
	defer d.Close()
	_, err := schema.StatusOf(ctx, d, schema.FS())
	return dbfile.NotOrgdb(path, err)
}

// copyDB copies the database src reads into the empty file at dst with
// the online backup API, inside one read transaction on src, then makes
// dst a rollback-journal database and checks its integrity.
// Its errors start with op ("backup", "restore").
func copyDB(ctx context.Context, src *sql.Conn, dst, op string, stepPages int, progress func(done, total int64)) (err error) {
	// The read transaction pins one snapshot for every step: the backup
	// never sees a later commit, so it never restarts.
	if _, err := src.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer func() {
		if _, rerr := src.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil && err == nil {
			err = fmt.Errorf("%s: end the read transaction: %w", op, rerr)
		}
	}()
	var n int
	if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema`).Scan(&n); err != nil {
		return fmt.Errorf("%s: read the source: %w", op, err)
	}
	dstDB := dbfile.Pool(dbfile.URI(dst, "_journal_mode=OFF&_synchronous=OFF"), dbfile.PlainDriver())
	defer dstDB.Close()
	dc, err := dstDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: open %s: %w", op, dst, err)
	}
	defer dc.Close()
	err = src.Raw(func(s any) error {
		return dc.Raw(func(d any) error {
			sc, ok1 := s.(*sqlite3.SQLiteConn)
			dc, ok2 := d.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return fmt.Errorf("%s: connections are %T and %T, want go-sqlite3's", op, s, d)
			}
			return step(ctx, dc, sc, op, stepPages, progress)
		})
	})
	if err != nil {
		return err
	}
	// The copy's header says WAL, as the source's does: switch it to a
	// rollback journal, so that the file alone is the whole database.
	if _, err := dc.ExecContext(ctx, `PRAGMA journal_mode = DELETE`); err != nil {
		return fmt.Errorf("%s: set the copy's journal mode: %w", op, err)
	}
	return integrity(ctx, dc, dst)
}

// step runs the online backup from sc to dc to the end.
func step(ctx context.Context, dc, sc *sqlite3.SQLiteConn, op string, pages int, progress func(done, total int64)) (err error) {
	if pages <= 0 {
		pages = backupStepPages
	}
	b, err := dc.Backup("main", sc, "main")
	if err != nil {
		return fmt.Errorf("%s: start: %w", op, err)
	}
	defer func() {
		if ferr := b.Finish(); ferr != nil && err == nil {
			err = fmt.Errorf("%s: finish: %w", op, ferr)
		}
	}()
	var pageSize int64
	if err := queryInt(sc, `PRAGMA page_size`, &pageSize); err != nil {
		return fmt.Errorf("%s: page size: %w", op, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := b.Step(pages)
		if err != nil {
			return fmt.Errorf("%s: copy: %w", op, err)
		}
		if progress != nil {
			total := int64(b.PageCount())
			progress((total-int64(b.Remaining()))*pageSize, total*pageSize)
		}
		if done {
			return nil
		}
	}
}

// queryInt reads one integer through a raw go-sqlite3 connection.
func queryInt(c *sqlite3.SQLiteConn, q string, out *int64) error {
	rows, err := c.Query(q, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return err
	}
	n, ok := v[0].(int64)
	if !ok {
		return fmt.Errorf("%s: got %T", q, v[0])
	}
	*out = n
	return nil
}

// integrity runs PRAGMA integrity_check on c and wants "ok".
func integrity(ctx context.Context, c interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, what string) error {
	rows, err := c.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity_check of %s: %w", what, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity_check of %s: %w", what, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check of %s: %w", what, err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return fmt.Errorf("%w: integrity_check of %s: %s", errCorrupt, what, strings.Join(problems, "; "))
	}
	return nil
}

// errCorrupt marks a failed integrity_check.
var errCorrupt = errors.New("the database is damaged")

// place moves tmp to path: with overwrite a rename, replacing any file
// there; otherwise a hard link, which fails if a file appeared at path
// since it was checked, then the removal of tmp.
func place(tmp, path string, overwrite bool) error {
	if overwrite {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("move the backup into place: %w", err)
		}
		return nil
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return orgdb.Conflict("%s already exists: pass --force to replace it, or choose another path", path).
				WithReason(ReasonBackupExists)
		}
		return fmt.Errorf("move the backup into place: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("remove the temporary backup: %w", err)
	}
	return nil
}

// removeDB removes a database file and whatever SQLite left beside it.
func removeDB(path string) {
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		_ = os.Remove(path + suffix) // best effort: it is our own temporary file
	}
}
