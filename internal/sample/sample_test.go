package sample_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/sample"
	"github.com/agentops/orgdb/schema"
)

// TestFillHead fills a database migrated to the head and checks the fill is
// representative: rows in every table, several where constraints allow,
// and in every nullable column both NULL and a value.
func TestFillHead(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", dbfile.DSN(filepath.Join(t.TempDir(), "fill.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := schema.Migrate(ctx, db, schema.FS()); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Read(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Rows a migration inserted itself (a settings row) are not the fill's.
	before := map[string]int{}
	for _, tb := range cat.Tables {
		before[tb.Name] = count(t, db, tb.Name)
	}
	if err := sample.Fill(ctx, db, cat); err != nil {
		t.Fatal(err)
	}
	several := 0
	for _, tb := range cat.Tables {
		n := count(t, db, tb.Name)
		if n == 0 {
			t.Errorf("table %s: no row could be filled", tb.Name)
		}
		if n > 1 {
			several++
		}
		if n == before[tb.Name] {
			continue
		}
		for _, c := range tb.Columns {
			if c.NotNull || c.PK {
				continue
			}
			var nulls, values int
			if err := db.QueryRow(`SELECT count(*) FILTER (WHERE "`+c.Name+`" IS NULL), count("`+c.Name+`") FROM "`+tb.Name+`"`).Scan(&nulls, &values); err != nil {
				t.Fatal(err)
			}
			if n > 1 && values == 0 {
				t.Errorf("%s.%s: NULL in all %d rows; want values too", tb.Name, c.Name, n)
			}
			if nulls == 0 && acceptsNull(t, db, tb.Name, c.Name) {
				t.Errorf("%s.%s: no NULL in %d rows though the database accepts one", tb.Name, c.Name, n)
			}
		}
	}
	// Tables that hold one row by design (the org settings, the sealing key
	// record, the sealing key salt: a CHECK on the primary key) get one.
	if several < len(cat.Tables)-3 {
		t.Errorf("only %d of %d tables got several rows", several, len(cat.Tables))
	}
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
}

// acceptsNull reports whether the database lets a row of table hold NULL
// in column (a trigger may refuse it), trying it in a transaction that is
// rolled back.
func acceptsNull(t *testing.T, db *sql.DB, table, column string) bool {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // only ever rolled back
	_, err = tx.Exec(`UPDATE "` + table + `" SET "` + column + `" = NULL WHERE rowid = (SELECT min(rowid) FROM "` + table + `")`)
	return err == nil
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
