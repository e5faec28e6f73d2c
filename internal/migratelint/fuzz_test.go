package migratelint

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzStatements feeds any text to the statement readers the rules use
// (INSERT, UPDATE/DELETE, CREATE TABLE, ALTER TABLE, PRAGMA, a column's
// line, WITHOUT ROWID): none may panic or loop, whatever a migration
// holds. The seeds are every fixture and shipped migration.
func FuzzStatements(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*/*/*.sql")
	if err != nil {
		f.Fatal(err)
	}
	shipped, err := filepath.Glob("../../schema/0*.sql")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(seeds, shipped...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("INSERT INTO")
	f.Add("INSERT INTO t (")
	f.Add("WITH x AS (SELECT 1) UPDATE")
	f.Add("CREATE TABLE t (a) WITHOUT ROWID")
	f.Fuzz(func(t *testing.T, src string) {
		stmts, _ := Split(src)
		for i := range stmts {
			s := stmts[i]
			if in, ok := insertOf(s); ok {
				for _, c := range append(in.cols, "a", "") {
					in.source(c, []string{"a", "b"})
				}
			}
			changeOf(s)
			alterOf(s)
			if name, ok := createTableName(s); ok {
				columnLine(&stmts[i], name)
				columnLine(&stmts[i], "a")
			}
			withoutRowid(s.SQL)
			for _, it := range resultColumns(s.tokens, 0) {
				bare(it, "a")
			}
		}
	})
}
