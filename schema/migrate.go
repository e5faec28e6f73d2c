// Package schema holds the SQLite migrations of orgdb (NNNN_name.sql, the
// single source of truth that sqlc also reads) and the runner that applies
// them.
//
// The runner records every applied migration in the table
// schema_migrations (version, name, sha256 of the file, applied_at). Each
// pending file is applied together with its record in one IMMEDIATE
// transaction, so a file that fails half-way leaves the database at the
// previous version. On every run it also checks that each applied file is
// unchanged: a shipped migration is never edited. The files are plain SQL
// with no annotations.
//
// The folder also holds generated artifacts, which are not migrations:
// schema.sql (the schema after all migrations), README.md (its diagram) and
// migrations.sum (the checksums of the migration files).
//
// It owns the migrations and the runner, on a *sql.DB: Migrate, Verify,
// StatusOf, RepairChecksums. It knows no file paths and builds no DSN:
// opening and inspecting a database file is package dbfile's, which
// imports this one (docs/packages.md). It imports nothing of the project.
package schema

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed *.sql
var embedded embed.FS

// SnapshotFile is the generated schema snapshot in this folder; it is not
// a migration and the runner skips it.
const SnapshotFile = "schema.sql"

// FS returns the migrations embedded in the binary.
func FS() fs.FS { return embedded }

// Migration is one migration file.
type Migration struct {
	Version int    // from the NNNN_ prefix
	Name    string // the file name without the prefix and .sql
	File    string // the file name
	SHA256  string // hex sha256 of the file's bytes
	SQL     string
}

// Status is a migration together with whether and when it was applied.
type Status struct {
	Migration
	Applied   bool
	AppliedAt time.Time // zero when pending
	// RecordedSHA256 and RecordedName are what schema_migrations holds for
	// an applied migration.
	RecordedSHA256 string
	RecordedName   string
}

// Edited reports whether an applied migration's file differs from the file
// that was applied (its checksum or its name changed).
func (s Status) Edited() bool {
	return s.Applied && s.File != "" && (s.RecordedSHA256 != s.SHA256 || s.RecordedName != s.Name)
}

var fileName = regexp.MustCompile(`^(\d{4,})_([a-z0-9][a-z0-9_]*)\.sql$`)

// Load reads every *.sql file at the root of fsys except [SnapshotFile]
// and returns the migrations in version order. A file whose name is not
// NNNN_name.sql (four or more digits, lower-case name) or two files with
// the same version are refused with an error naming the files.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		if name == SnapshotFile {
			continue
		}
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migration %s: file name must be NNNN_name.sql (digits, underscore, lower-case name)", name)
		}
		v, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("migration %s: version: %w", name, err)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: m[2], File: path.Base(name), SHA256: hex.EncodeToString(sum[:]), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s: duplicate version %d", ms[i-1].File, ms[i].File, ms[i].Version)
		}
	}
	return ms, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`

type record struct {
	version   int
	name      string
	sha256    string
	appliedAt string
}

// applied returns the records of schema_migrations, creating the table if
// needed, unless the database is another application's ([ErrNotOrgdb]).
// The creation runs in a transaction, which is IMMEDIATE with orgdb's DSN:
// as a bare statement, runners racing on a new file can get SQLITE_BUSY
// without waiting (a lock upgrade SQLite refuses to wait for).
func applied(ctx context.Context, db *sql.DB) (map[int]record, error) {
	tx, err := begin(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	recs, err := records(ctx, tx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	return recs, nil
}

// begin starts a transaction, waiting while SQLite reports the database
// busy (see [RetryBusy]).
func begin(ctx context.Context, db *sql.DB) (tx *sql.Tx, err error) {
	err = RetryBusy(ctx, func() error {
		tx, err = db.BeginTx(ctx, nil)
		return err
	})
	return tx, err
}

// RetryBusy calls f until it returns anything but SQLITE_BUSY, for up to
// the DSN's busy timeout. The busy timeout covers waiting for locks, but
// not a connection opening on a brand-new file while another process
// switches it to WAL: that fails at once with SQLITE_BUSY, so processes
// racing to open or migrate a new file retry it.
func RetryBusy(ctx context.Context, f func() error) error {
	return retryBusy(ctx, func(pause time.Duration) time.Duration { // 1 ms, doubling to 50 ms
		return max(time.Millisecond, min(2*pause, 50*time.Millisecond))
	}, f)
}

// RetryBusyEvery is RetryBusy with a fixed pause between tries: for a
// connection whose own busy timeout is 0, polling for a lock that other
// writers take back as soon as they release it (SQLite's handler sleeps
// up to 100 ms between its tries).
func RetryBusyEvery(ctx context.Context, pause time.Duration, f func() error) error {
	return retryBusy(ctx, func(time.Duration) time.Duration { return pause }, f)
}

// retryBusy calls f until it returns anything but SQLITE_BUSY, for up to
// busyWait, pausing next(0) after the first try and next(previous pause)
// after each other.
func retryBusy(ctx context.Context, next func(time.Duration) time.Duration, f func() error) error {
	deadline := time.Now().Add(busyWait)
	for pause := next(0); ; pause = next(pause) {
		err := f()
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// BusyTimeout is how long a connection of orgdb's DSNs (package dbfile)
// waits for a lock before it fails with "database is locked"; it also
// bounds [RetryBusy].
const BusyTimeout = 5 * time.Second

// busyWait bounds begin's retries, like the DSN's busy timeout.
const busyWait = BusyTimeout

// check refuses to run when the files do not fit the database's history:
// an applied migration whose file was edited or renamed since, or a pending
// migration numbered below the highest applied one (added behind migrations
// that already ran, so this database would get a different history than a
// fresh one).
func check(ms []Migration, recs map[int]record) error {
	highest := 0
	for v := range recs {
		highest = max(highest, v)
	}
	for _, m := range ms {
		r, ok := recs[m.Version]
		switch {
		case ok && r.sha256 != m.SHA256:
			return fmt.Errorf("migration %s was edited after it was applied: applied sha256 %s, file sha256 %s; "+
				"restore the file and put the change in a new migration (or, if the edit is deliberate and changes nothing, run orgdb migrate --repair-checksums)",
				m.File, r.sha256, m.SHA256)
		case ok && r.name != m.Name:
			return fmt.Errorf("migration %s was renamed after it was applied (applied as %04d_%s.sql); "+
				"restore the name (or run orgdb migrate --repair-checksums)", m.File, r.version, r.name)
		case !ok && m.Version < highest:
			return fmt.Errorf("migration %s: version %d is pending but lower than the highest applied version %d; give it a number above %04d",
				m.File, m.Version, highest, highest)
		}
	}
	return nil
}

// Migrate applies every pending migration of fsys to db in version order
// and returns the ones it applied. It first refuses, naming the file, an
// applied migration that was edited or renamed and a pending one numbered
// below the highest applied. db should come from a DSN with
// _txlock=immediate so that concurrent runners serialize; each file is
// applied with its record in one transaction, and a version applied by a
// concurrent runner meanwhile is skipped.
func Migrate(ctx context.Context, db *sql.DB, fsys fs.FS) ([]Migration, error) {
	ms, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	recs, err := applied(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := check(ms, recs); err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range ms {
		if _, ok := recs[m.Version]; ok {
			continue
		}
		ok, err := apply(ctx, db, m)
		if err != nil {
			return done, err
		}
		if ok {
			done = append(done, m)
		}
	}
	return done, nil
}

// apply runs one migration and its record in one transaction. It reports
// false if another runner applied the version first.
func apply(ctx context.Context, db *sql.DB, m Migration) (bool, error) {
	tx, err := begin(ctx, db)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.File, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.File, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s failed, nothing of it was applied: %w", m.File, err)
	}
	now := time.Now().UTC().Format(time.DateTime)
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)`,
		m.Version, m.Name, m.SHA256, now); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.File, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.File, err)
	}
	return true, nil
}

// StatusOf lists every migration of fsys with whether it is applied to db
// and what was recorded when it was, plus any applied version whose file is
// missing from fsys (with an empty File), in version order. It never
// changes the database, so db may be opened with dbfile.ReadOnlyDSN; a
// database with tables but no schema_migrations is [ErrNotOrgdb].
func StatusOf(ctx context.Context, db *sql.DB, fsys fs.FS) ([]Status, error) {
	ms, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	recs, err := records(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, m := range ms {
		s := Status{Migration: m}
		if r, ok := recs[m.Version]; ok {
			if s, err = withRecord(s, r); err != nil {
				return nil, fmt.Errorf("migration %s: %w", m.File, err)
			}
			delete(recs, m.Version)
		}
		out = append(out, s)
	}
	for _, r := range recs {
		s, err := withRecord(Status{Migration: Migration{Version: r.version, Name: r.name}}, r)
		if err != nil {
			return nil, fmt.Errorf("migration %04d: %w", r.version, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Status) int { return a.Version - b.Version })
	return out, nil
}

func withRecord(s Status, r record) (Status, error) {
	at, err := time.Parse(time.DateTime, r.appliedAt)
	if err != nil {
		return s, fmt.Errorf("applied_at %q: %w", r.appliedAt, err)
	}
	s.Applied, s.AppliedAt, s.RecordedSHA256, s.RecordedName = true, at, r.sha256, r.name
	return s, nil
}

// RepairChecksums records the current checksum and name of every applied
// migration whose file was edited or renamed since it was applied, and
// returns those migrations. It is for the rare deliberate edit that
// changes nothing in effect (a comment, whitespace): it does not re-run the
// file. All records are updated in one transaction.
func RepairChecksums(ctx context.Context, db *sql.DB, fsys fs.FS) ([]Status, error) {
	st, err := StatusOf(ctx, db, fsys)
	if err != nil {
		return nil, err
	}
	tx, err := begin(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("repair checksums: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var repaired []Status
	for _, s := range st {
		if !s.Edited() {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_migrations SET sha256 = ?, name = ? WHERE version = ? AND sha256 = ? AND name = ?`,
			s.SHA256, s.Name, s.Version, s.RecordedSHA256, s.RecordedName); err != nil {
			return nil, fmt.Errorf("repair checksum of %s: %w", s.File, err)
		}
		repaired = append(repaired, s)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("repair checksums: %w", err)
	}
	return repaired, nil
}
