package schema_test

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/internal/migratelint"
	"github.com/agentops/orgdb/internal/sample"
	"github.com/agentops/orgdb/schema"
)

// intended lists, per migration, the columns whose existing values it
// rewrites on purpose and how: the function maps a value before the
// migration to the value after it, or to a want that checks it. Every
// other value of every row must come through an upgrade unchanged. A new
// migration that only adds things needs no entry.
var intended = map[string]map[string]func(any) any{
	"0007_value_checks.sql": {
		"invites.expires_at":                   canonicalTime,
		"invites.accepted_at":                  canonicalTime,
		"org_settings.domain_gating_enabled":   flag,
		"org_settings.email_allowlist_enabled": flag,
	},
	"0009_indexes.sql": {
		"invites.created_at": func(v any) any {
			if v == nil {
				return want{"the migration time", func(got any) bool {
					s, ok := got.(string)
					_, err := time.Parse(time.DateTime, s)
					return ok && err == nil
				}}
			}
			return v
		},
	},
}

// want is an expected value that is not known exactly.
type want struct {
	what string
	ok   func(any) bool
}

func (w want) String() string { return w.what }

// canonicalTime is 0007's rewrite of RFC 3339 timestamps to UTC
// 'YYYY-MM-DD HH:MM:SS.SSS'; other values stay.
func canonicalTime(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return v
	}
	return ts.UTC().Format("2006-01-02 15:04:05.000")
}

// flag is 0007's NOT NULL 0/1 flag: NULL and 0 become 0, anything else 1.
func flag(v any) any {
	if n, ok := v.(int64); ok && n != 0 {
		return int64(1)
	}
	return int64(0)
}

// TestUpgrade builds, for every migration N, a database at version N−1
// with the production runner, fills every table with sample rows (NULL in
// every nullable column, edge timestamps and flags, several rows), applies
// N up to the head, and checks that every row is still there with every
// value preserved or rewritten as the migration intends (intended, above),
// and that integrity_check and foreign_key_check are clean. Rows a
// migration drops on purpose are the ones its lint:allow accepts.
func TestUpgrade(t *testing.T) {
	ms, err := schema.Load(schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	lint, err := migratelint.Lint(ctx, migratelint.Options{Dir: ".", AllowFile: "migratelint.allow"})
	if err != nil {
		t.Fatal(err)
	}
	// dropsRows[file][table]: the migration may lose rows of the table.
	// refusesRows[file]: the migration fails on sample rows that
	// production cannot hold, as its lint:allow FAILS_ON_ROWS says.
	dropsRows := map[string]map[string]bool{}
	refusesRows := map[string]string{}
	for _, f := range lint.Findings {
		if f.Accepted && f.Code == migratelint.FailsOnRows {
			refusesRows[f.Path[strings.LastIndex(f.Path, "/")+1:]] = f.Reason
		}
		if f.Accepted && (f.Code == migratelint.RowsLost || f.Code == migratelint.DropTable || f.Code == migratelint.RenameTable) {
			file := f.Path[strings.LastIndex(f.Path, "/")+1:]
			if dropsRows[file] == nil {
				dropsRows[file] = map[string]bool{}
			}
			dropsRows[file][strings.ToLower(f.Table)] = true
		}
	}
	for k, m := range ms {
		t.Run(m.File, func(t *testing.T) {
			t.Parallel()
			db := dbtest.Raw(t, dbtest.Path(t))
			prev := 0
			if k > 0 {
				prev = ms[k-1].Version
			}
			if _, err := schema.Migrate(ctx, db, schema.UpTo(schema.FS(), prev)); err != nil {
				t.Fatal(err)
			}
			cat, err := catalog.Read(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if err := sample.Fill(ctx, db, cat); err != nil {
				t.Fatal(err)
			}
			before := readRows(t, db, cat)
			for _, tb := range cat.Tables {
				if len(before[tb.Name]) == 0 {
					t.Errorf("version %d: the sample fill put no row in %s", prev, tb.Name)
				}
			}
			applied, err := schema.Migrate(ctx, db, schema.FS())
			if err != nil {
				for _, later := range ms[k:] {
					if why, ok := refusesRows[later.File]; ok && strings.Contains(err.Error(), later.File) {
						t.Skipf("%s refuses the sample rows, as its lint:allow FAILS_ON_ROWS says (%s): %v", later.File, why, err)
					}
				}
				t.Fatal(err)
			}
			if len(applied) != len(ms)-k {
				t.Fatalf("applied %d migrations from version %d, want %d", len(applied), prev, len(ms)-k)
			}
			head, err := catalog.Read(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			after := readRows(t, db, head)
			for _, tb := range cat.Tables {
				mayDrop := false
				for _, later := range ms[k:] {
					mayDrop = mayDrop || dropsRows[later.File][strings.ToLower(tb.Name)]
				}
				for key, row := range before[tb.Name] {
					got, ok := after[tb.Name][key]
					if !ok {
						if !mayDrop {
							t.Errorf("%s row %s was lost by the upgrade", tb.Name, key)
						}
						continue
					}
					for col, was := range row {
						now, ok := got[col]
						if !ok {
							continue // a dropped column: the lint's DROP_COLUMN
						}
						exp := was
						for _, later := range ms[k:] {
							if f := intended[later.File][tb.Name+"."+col]; f != nil {
								if _, done := exp.(want); !done {
									exp = f(exp)
								}
							}
						}
						if w, ok := exp.(want); ok {
							if !w.ok(now) {
								t.Errorf("%s row %s column %s: was %#v, now %#v, want %s", tb.Name, key, col, was, now, w)
							}
						} else if !reflect.DeepEqual(now, exp) {
							t.Errorf("%s row %s column %s: was %#v, now %#v, want %#v", tb.Name, key, col, was, now, exp)
						}
					}
				}
			}
			var integrity string
			if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
				t.Errorf("integrity_check: %q, %v", integrity, err)
			}
			rows, err := db.Query(`PRAGMA foreign_key_check`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var table, parent string
				var rowid sql.NullInt64
				var fk int
				if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
					t.Fatal(err)
				}
				t.Errorf("foreign_key_check: %s rowid %v references a missing %s row", table, rowid.Int64, parent)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// readRows returns every row of every table of cat, keyed by table name
// and then by primary key (the rowid for a table without one).
func readRows(t *testing.T, db *sql.DB, cat catalog.Catalog) map[string]map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]map[string]any{}
	for _, tb := range cat.Tables {
		var pk []string
		for _, c := range tb.Columns {
			if c.PK {
				pk = append(pk, `"`+c.Name+`"`)
			}
		}
		if len(pk) == 0 {
			pk = []string{"rowid"}
		}
		rows, err := db.Query(`SELECT ` + strings.Join(pk, ", ") + `, * FROM "` + tb.Name + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = map[string]map[string]any{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := map[string]any{}
			for i, c := range cols[len(pk):] {
				row[c] = vals[len(pk)+i]
			}
			out[tb.Name][fmt.Sprint(vals[:len(pk)]...)] = row
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}
