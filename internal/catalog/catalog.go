// Package catalog reads the schema of a migrated SQLite database from the
// database itself: sqlite_master and the table_info, foreign_key_list,
// index_list and index_info pragmas. schemadoc draws schema.sql and the
// diagram from it; the migration lint compares it before and after each
// migration.
package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/agentops/orgdb/schema"
)

// Object is one row of sqlite_master.
type Object struct {
	Type, Name, Table, SQL string
}

// Column is one row of table_info.
type Column struct {
	Name, Type  string
	NotNull, PK bool
	Default     sql.NullString
}

// ForeignKey is one row of foreign_key_list.
type ForeignKey struct {
	From, Table, To string
	OnDelete        string // NO ACTION, CASCADE, SET NULL, …
}

// Index is one row of index_list with its columns from index_info.
type Index struct {
	Name, Table string
	Columns     []string // "expr" for an expression
	Unique      bool
	Origin      string // c: CREATE INDEX, u: UNIQUE constraint, pk: primary key
	Partial     bool
}

// Table is a table with its columns, foreign keys and indexes.
type Table struct {
	Name    string
	Columns []Column
	FKs     []ForeignKey
	Indexes []Index
}

// Catalog is the schema of a database.
type Catalog struct {
	Objects []Object // tables, indexes, triggers, views; in snapshot order
	Tables  []Table
}

// Table returns the table called name (case-insensitively) and whether it
// exists.
func (c Catalog) Table(name string) (Table, bool) {
	for _, t := range c.Tables {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return Table{}, false
}

// Column returns the column called name (case-insensitively) and whether
// it exists.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

// Read reads the migrated database's own catalog: sqlite_master and
// the table_info, foreign_key_list and index_list pragmas. The runner's
// bookkeeping table and other tools' tables ([schema.OthersGlob]) are
// left out.
func Read(ctx context.Context, db *sql.DB) (Catalog, error) {
	var cat Catalog
	rows, err := db.QueryContext(ctx, `
SELECT type, name, tbl_name, sql FROM sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND tbl_name <> 'schema_migrations' AND tbl_name NOT GLOB '`+schema.OthersGlob+`'
ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, tbl_name, name`)
	if err != nil {
		return cat, err
	}
	for rows.Next() {
		var o Object
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			return cat, err
		}
		cat.Objects = append(cat.Objects, o)
	}
	if err := rows.Close(); err != nil {
		return cat, err
	}
	for _, o := range cat.Objects {
		if o.Type != "table" {
			continue
		}
		t, err := readTable(ctx, db, o.Name)
		if err != nil {
			return cat, fmt.Errorf("table %s: %w", o.Name, err)
		}
		cat.Tables = append(cat.Tables, t)
	}
	return cat, nil
}

func readTable(ctx context.Context, db *sql.DB, name string) (Table, error) {
	t := Table{Name: name}
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var c Column
		var pk int
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.Default, &pk); err != nil {
			return t, err
		}
		c.PK = pk > 0
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	rows, err = db.QueryContext(ctx, `SELECT "from", "table", coalesce("to", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var fk ForeignKey
		if err := rows.Scan(&fk.From, &fk.Table, &fk.To, &fk.OnDelete); err != nil {
			return t, err
		}
		t.FKs = append(t.FKs, fk)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	rows, err = db.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		ix := Index{Table: name}
		if err := rows.Scan(&ix.Name, &ix.Unique, &ix.Origin, &ix.Partial); err != nil {
			return t, err
		}
		t.Indexes = append(t.Indexes, ix)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	for i, ix := range t.Indexes {
		// name is NULL for an expression; show it as "expr".
		rows, err := db.QueryContext(ctx, `SELECT coalesce(name, 'expr') FROM pragma_index_info(?) ORDER BY seqno`, ix.Name)
		if err != nil {
			return t, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return t, err
			}
			t.Indexes[i].Columns = append(t.Indexes[i].Columns, c)
		}
		if err := rows.Close(); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Affinity is SQLite's column affinity for a declared type, by the rules
// of https://sqlite.org/datatype3.html#determination_of_column_affinity:
// INTEGER, TEXT, BLOB, REAL or NUMERIC.
func Affinity(declared string) string {
	u := strings.ToUpper(declared)
	switch {
	case strings.Contains(u, "INT"):
		return "INTEGER"
	case strings.Contains(u, "CHAR"), strings.Contains(u, "CLOB"), strings.Contains(u, "TEXT"):
		return "TEXT"
	case strings.TrimSpace(u) == "", strings.Contains(u, "BLOB"):
		return "BLOB"
	case strings.Contains(u, "REAL"), strings.Contains(u, "FLOA"), strings.Contains(u, "DOUB"):
		return "REAL"
	}
	return "NUMERIC"
}

// Normalize collapses every run of whitespace outside string literals and
// quoted names to one space.
func Normalize(s string) string {
	var b []byte
	var quote byte
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			b = append(b, c)
			if c == quote {
				quote = 0
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = len(b) > 0
		default:
			if space && c != ')' && c != ',' && b[len(b)-1] != '(' {
				b = append(b, ' ')
			}
			space = false
			if c == '\'' || c == '"' || c == '`' {
				quote = c
			}
			b = append(b, c)
		}
	}
	return string(b)
}

// SplitTop splits s at top-level sep (outside parentheses and quotes).
func SplitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}
