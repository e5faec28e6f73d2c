package catalog_test

import (
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/dbtest"
)

// TestAffinity asks SQLite which affinity each declared type has, by what
// a column of that type stores and what a CAST to it gives, and compares
// with Affinity.
func TestAffinity(t *testing.T) {
	db := dbtest.Raw(t, dbtest.Path(t))
	for _, typ := range []string{"INTEGER", "INT", "bigint", "UNSIGNED BIG INT", "FLOATING POINT", "TEXT", "VARCHAR(255)", "NCHAR(55)", "CLOB",
		"BLOB", "", "REAL", "DOUBLE PRECISION", "FLOAT", "NUMERIC", "DECIMAL(10,5)", "BOOLEAN", "DATE", "DATETIME", "TIMESTAMP"} {
		if _, err := db.Exec(`DROP TABLE IF EXISTS a; CREATE TABLE a (c ` + typ + `); INSERT INTO a VALUES ('2'), (7)`); err != nil {
			t.Fatal(typ, err)
		}
		var stored []string
		rows, err := db.Query(`SELECT typeof(c) FROM a ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		cast := "none"
		if typ != "" {
			if err := db.QueryRow(`SELECT typeof(CAST('1.5' AS ` + typ + `))`).Scan(&cast); err != nil {
				t.Fatal(typ, err)
			}
		}
		var want string
		switch sig := strings.Join(stored, ",") + " " + cast; sig {
		case "integer,integer integer":
			want = "INTEGER"
		case "integer,integer real":
			want = "NUMERIC"
		case "real,real real":
			want = "REAL"
		case "text,text text":
			want = "TEXT"
		case "text,integer blob", "text,integer none":
			want = "BLOB"
		default:
			t.Fatalf("%q: SQLite stores %s and casts to %s, which is no affinity this test knows", typ, stored, cast)
		}
		if got := catalog.Affinity(typ); got != want {
			t.Errorf("Affinity(%q) = %s, SQLite says %s", typ, got, want)
		}
	}
}
