// Package dbtest opens real, migrated orgdb databases for tests: a SQLite
// file under t.TempDir(), opened and migrated by the production code path.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// Path returns a new database file path in t.TempDir().
func Path(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "orgdb.db")
}

// Raw opens the database file at path with orgdb's DSN but without
// migrating it, for tests of the migration runner.
func Raw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", store.DSN(path))
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

// Querier is what [Rows] reads from: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Rows runs query and returns its column names and every row, each as its
// values in column order (go-sqlite3 gives TEXT as string, INTEGER as
// int64, NULL as nil). Any error, including one met while iterating, fails
// the test.
func Rows(tb testing.TB, q Querier, query string, args ...any) (cols []string, rows [][]any) {
	tb.Helper()
	r, err := q.QueryContext(context.Background(), query, args...)
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
// table, in a stable text form. A test shows that a refused operation
// changed nothing by comparing the snapshots taken before and after.
func Snapshot(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	var b strings.Builder
	for _, n := range Strings(tb, db, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`) {
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
