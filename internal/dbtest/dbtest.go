// Package dbtest opens real, migrated orgdb databases for tests: a SQLite
// file under t.TempDir(), opened and migrated by the production code path.
package dbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// New opens a fresh migrated database file in t.TempDir() and closes it
// when the test ends.
func New(tb testing.TB, opts ...store.Option) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), Path(tb), opts...)
	if err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("dbtest: close: %v", err)
		}
	})
	return st
}

// Path returns a new database file path in a new directory of
// t.TempDir(), private (0700) as a deployment's should be (t.TempDir's
// own directories are 0777 less the umask, which Open warns about).
func Path(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	return filepath.Join(dir, "orgdb.db")
}

// Raw opens the database file at path with orgdb's DSN but without
// migrating it, for tests of the migration runner.
func Raw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", dbfile.DSN(path))
	if err != nil {
		tb.Fatalf("dbtest: open raw: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("dbtest: close raw: %v", err)
		}
	})
	return db
}

// Deadline is how long [Rows], and the helpers built on it ([Strings],
// [Snapshot]), wait for a query.
var Deadline = 30 * time.Second

// Querier is what [Rows] reads from: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Rows runs query and returns its column names and every row, each as its
// values in column order (go-sqlite3 gives TEXT as string, INTEGER as
// int64, NULL as nil). Any error, including one met while iterating, fails
// the test.
//
// It waits at most [Deadline] for the query and its rows: a regression that
// leaves a lock or the pool's only connection held fails the test, naming
// the query, instead of hanging until go test's own timeout.
func Rows(tb testing.TB, q Querier, query string, args ...any) (cols []string, rows [][]any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	r, err := q.QueryContext(ctx, query, args...)
	if errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("dbtest: %s: no answer within %v: is a connection or lock still held by the test (an open Tx or Rows)?", query, Deadline)
	}
	if err != nil {
		tb.Fatalf("dbtest: %s: %v", query, err)
	}
	defer r.Close()
	if cols, err = r.Columns(); err != nil {
		tb.Fatalf("dbtest: %s: %v", query, err)
	}
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			tb.Fatalf("dbtest: %s: %v", query, err)
		}
		rows = append(rows, vals)
	}
	if err := r.Err(); err != nil {
		tb.Fatalf("dbtest: %s: %v", query, err)
	}
	return cols, rows
}

// Strings is [Rows] for a query of one TEXT column.
func Strings(tb testing.TB, q Querier, query string, args ...any) []string {
	tb.Helper()
	_, rows := Rows(tb, q, query, args...)
	out := make([]string, len(rows))
	for i, r := range rows {
		s, ok := r[0].(string)
		if !ok {
			tb.Fatalf("dbtest: %s: row %d is %T, want a string", query, i, r[0])
		}
		out[i] = s
	}
	return out
}

// Snapshot returns the whole content of the database, every row of every
// table (other tools' tables, [schema.OthersGlob], left out), in a stable
// text form. A test shows that a refused operation
// changed nothing by comparing the snapshots taken before and after.
func Snapshot(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	var b strings.Builder
	for _, n := range Strings(tb, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB '`+schema.OthersGlob+`' ORDER BY name`) {
		fmt.Fprintf(&b, "== %s\n", n)
		cols, rows := Rows(tb, db, `SELECT * FROM "`+n+`"`)
		var lines []string
		for _, r := range rows {
			var l strings.Builder
			for i, c := range cols {
				fmt.Fprintf(&l, "%s=%#v ", c, r[i])
			}
			lines = append(lines, l.String())
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintln(&b, l)
		}
	}
	return b.String()
}

// File returns the path of the database file d has open.
func File(tb testing.TB, d *sql.DB) string {
	tb.Helper()
	var seq int
	var name, file string
	if err := d.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		tb.Fatalf("dbtest: database_list: %v", err)
	}
	return file
}

// Column is one column of a table, as PRAGMA table_info reports it.
type Column struct {
	Name    string
	Type    string
	NotNull bool
	Default sql.NullString
	PK      int // position in the primary key, 0 if not part of it
}

// Tables returns every table of the database but SQLite's own, other
// tools' ([schema.OthersGlob]) and the
// migration runner's schema_migrations, with its columns in order: the
// schema as the migrations left it, for tests that must not restate it.
func Tables(tb testing.TB, db *sql.DB) map[string][]Column {
	tb.Helper()
	names := query(tb, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' AND name NOT GLOB '`+schema.OthersGlob+`' ORDER BY name`)
	out := map[string][]Column{}
	for _, n := range names {
		rows, err := db.Query(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, n)
		if err != nil {
			tb.Fatalf("dbtest: columns of %s: %v", n, err)
		}
		for rows.Next() {
			var c Column
			if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.Default, &c.PK); err != nil {
				tb.Fatalf("dbtest: columns of %s: %v", n, err)
			}
			out[n] = append(out[n], c)
		}
		if err := rows.Close(); err != nil {
			tb.Fatalf("dbtest: columns of %s: %v", n, err)
		}
	}
	return out
}

// Catalog describes the whole schema of the database in a stable text
// form, one line per column, foreign key, index and trigger (SQLite's own
// objects and schema_migrations left out), by meaning rather than by the
// text of the statements that made it. Two databases with the same catalog
// have the same schema.
func Catalog(tb testing.TB, db *sql.DB) []string {
	tb.Helper()
	tables := Tables(tb, db)
	var out []string
	for _, t := range slices.Sorted(maps.Keys(tables)) {
		for _, c := range tables[t] {
			out = append(out, fmt.Sprintf("column %s.%s %s notnull=%v default=%v pk=%d", t, c.Name, c.Type, c.NotNull, c.Default.String, c.PK))
		}
		out = append(out, query(tb, db, `SELECT 'foreign key '||?||'.'||"from"||' -> '||"table"||'('||coalesce("to", '')||') on delete '||on_delete||' on update '||on_update
			FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t, t)...)
		out = append(out, query(tb, db, `SELECT 'index '||l.name||' on '||?||'('||(SELECT group_concat(coalesce(i.name, 'expr'), ',') FROM pragma_index_info(l.name) AS i)||
			') unique='||l."unique"||' partial='||l.partial||' origin='||l.origin FROM pragma_index_list(?) AS l ORDER BY l.name`, t, t)...)
	}
	out = append(out, query(tb, db, `SELECT 'trigger '||name||' on '||tbl_name FROM sqlite_master WHERE type = 'trigger' AND tbl_name NOT GLOB '`+schema.OthersGlob+`' ORDER BY name`)...)
	out = append(out, query(tb, db, `SELECT 'view '||name FROM sqlite_master WHERE type = 'view' ORDER BY name`)...)
	return out
}

// query returns the first column of every row, as text.
func query(tb testing.TB, db *sql.DB, q string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		tb.Fatalf("dbtest: %s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatalf("dbtest: %s: %v", q, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("dbtest: %s: %v", q, err)
	}
	return out
}

// ForeignDB writes the SQLite database of another application (one table
// and a row, rollback journal) under tb.TempDir(). It returns its path and
// a check, to call at the end of a test that must not touch it: the check
// fails tb unless the file holds exactly its bytes and nothing was left
// beside it (no -wal, -shm or -journal: it was not switched to WAL either).
func ForeignDB(tb testing.TB) (path string, unchanged func()) {
	tb.Helper()
	path = filepath.Join(tb.TempDir(), "notes.db")
	d, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatalf("dbtest: foreign database: %v", err)
	}
	if _, err := d.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		tb.Fatalf("dbtest: foreign database: %v", err)
	}
	if err := d.Close(); err != nil {
		tb.Fatalf("dbtest: foreign database: %v", err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("dbtest: foreign database: %v", err)
	}
	return path, func() {
		tb.Helper()
		got, err := os.ReadFile(path)
		if err != nil {
			tb.Fatalf("dbtest: %v", err)
		}
		if !bytes.Equal(got, want) {
			tb.Errorf("%s (another application's database) changed", path)
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(path + suffix); !errors.Is(err, fs.ErrNotExist) {
				tb.Errorf("%s%s was created beside another application's database", path, suffix)
			}
		}
	}
}
