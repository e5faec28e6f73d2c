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
	tb.Cleanup(func() { st.Close() })
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
	tb.Cleanup(func() { db.Close() })
	return db
}

// Snapshot returns the whole content of the database, every row of every
// table, in a stable text form. A test shows that a refused operation
// changed nothing by comparing the snapshots taken before and after.
func Snapshot(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		tb.Fatalf("dbtest: snapshot: %v", err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			tb.Fatalf("dbtest: snapshot: %v", err)
		}
		names = append(names, n)
	}
	tables.Close()
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "== %s\n", n)
		for _, r := range dump(tb, db, n) {
			fmt.Fprintln(&b, r)
		}
	}
	return b.String()
}

func dump(tb testing.TB, db *sql.DB, table string) []string {
	tb.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		tb.Fatalf("dbtest: dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatalf("dbtest: dump %s: %v", table, err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatalf("dbtest: dump %s: %v", table, err)
		}
		var b strings.Builder
		for i, c := range cols {
			fmt.Fprintf(&b, "%s=%#v ", c, vals[i])
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("dbtest: dump %s: %v", table, err)
	}
	slices.Sort(out)
	return out
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
