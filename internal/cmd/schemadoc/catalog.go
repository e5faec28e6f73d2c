package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/agentops/orgdb/schema"
)

// object is one row of sqlite_master.
type object struct {
	typ, name, table, sql string
}

type column struct {
	name, typ   string
	notNull, pk bool
	dflt        sql.NullString
}

type foreignKey struct {
	from, table, to string
}

type index struct {
	name, table string
	columns     []string
	unique      bool
	origin      string // c: CREATE INDEX, u: UNIQUE constraint, pk: primary key
}

type table struct {
	name    string
	columns []column
	fks     []foreignKey
	indexes []index
}

type catalog struct {
	objects []object // tables, indexes, triggers, views; in snapshot order
	tables  []table
}

// readCatalog reads the migrated database's own catalog: sqlite_master and
// the table_info, foreign_key_list and index_list pragmas. The runner's
// bookkeeping table is left out.
func readCatalog(ctx context.Context, db *sql.DB) (catalog, error) {
	var cat catalog
	rows, err := db.QueryContext(ctx, `
SELECT type, name, tbl_name, sql FROM sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND tbl_name <> 'schema_migrations'
ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, tbl_name, name`)
	if err != nil {
		return cat, err
	}
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return cat, err
		}
		cat.objects = append(cat.objects, o)
	}
	if err := rows.Close(); err != nil {
		return cat, err
	}
	for _, o := range cat.objects {
		if o.typ != "table" {
			continue
		}
		t, err := readTable(ctx, db, o.name)
		if err != nil {
			return cat, fmt.Errorf("table %s: %w", o.name, err)
		}
		cat.tables = append(cat.tables, t)
	}
	return cat, nil
}

func readTable(ctx context.Context, db *sql.DB, name string) (table, error) {
	t := table{name: name}
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var c column
		var pk int
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &pk); err != nil {
			return t, err
		}
		c.pk = pk > 0
		t.columns = append(t.columns, c)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	rows, err = db.QueryContext(ctx, `SELECT "from", "table", coalesce("to", '') FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var fk foreignKey
		if err := rows.Scan(&fk.from, &fk.table, &fk.to); err != nil {
			return t, err
		}
		t.fks = append(t.fks, fk)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	rows, err = db.QueryContext(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name`, name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		ix := index{table: name}
		if err := rows.Scan(&ix.name, &ix.unique, &ix.origin); err != nil {
			return t, err
		}
		t.indexes = append(t.indexes, ix)
	}
	if err := rows.Close(); err != nil {
		return t, err
	}
	for i, ix := range t.indexes {
		// name is NULL for an expression; show it as "expr".
		rows, err := db.QueryContext(ctx, `SELECT coalesce(name, 'expr') FROM pragma_index_info(?) ORDER BY seqno`, ix.name)
		if err != nil {
			return t, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return t, err
			}
			t.indexes[i].columns = append(t.indexes[i].columns, c)
		}
		if err := rows.Close(); err != nil {
			return t, err
		}
	}
	return t, nil
}

// snapshot is schema.sql: every object's CREATE statement, normalized.
func snapshot(cat catalog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s\n-- The schema after every migration in this folder, read from a database\n"+
		"-- migrated by the orgdb runner (schema_migrations, the runner's own table, left out).\n", header)
	for _, o := range cat.objects {
		b.WriteString("\n")
		switch o.typ {
		case "table":
			b.WriteString(formatTable(o.sql))
		case "trigger":
			b.WriteString(formatTrigger(o.sql))
		default:
			b.WriteString(normalize(o.sql))
		}
		b.WriteString(";\n")
	}
	return b.String()
}

// normalize collapses every run of whitespace outside string literals and
// quoted names to one space.
func normalize(s string) string {
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

// splitTop splits s at top-level sep (outside parentheses and quotes).
func splitTop(s string, sep byte) []string {
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

// formatTable puts each column and constraint of a CREATE TABLE on a line.
func formatTable(s string) string {
	n := normalize(s)
	open, end := strings.IndexByte(n, '('), strings.LastIndexByte(n, ')')
	if open < 0 || end < open {
		return n
	}
	return n[:open] + "(\n  " + strings.Join(splitTop(n[open+1:end], ','), ",\n  ") + "\n)" + n[end+1:]
}

// formatTrigger puts WHEN, BEGIN, each statement and END on lines.
func formatTrigger(s string) string {
	n := normalize(s)
	i := strings.Index(n, " BEGIN ")
	if i < 0 || !strings.HasSuffix(n, " END") {
		return n
	}
	head, body := n[:i], strings.TrimSuffix(n[i+len(" BEGIN "):], " END")
	var b strings.Builder
	b.WriteString(strings.Replace(head, " WHEN ", "\nWHEN ", 1))
	b.WriteString("\nBEGIN\n")
	for _, stmt := range splitTop(body, ';') {
		if stmt != "" {
			b.WriteString("  " + stmt + ";\n")
		}
	}
	b.WriteString("END")
	return b.String()
}

// readme is schema/README.md: the ER diagram, indexes, triggers and the
// migrations.
func readme(cat catalog, ms []schema.Migration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- %s -->\n\n# The orgdb schema\n\n", header)
	b.WriteString("The schema after all migrations, drawn from the catalog of a database migrated by the\n" +
		"orgdb runner. `schema.sql` holds the full text; `migrations.sum` the checksum of every migration.\n\n")
	b.WriteString("```mermaid\nerDiagram\n")
	for _, t := range cat.tables {
		for _, fk := range t.fks {
			card := "}o--||"
			if !colByName(t, fk.from).notNull {
				card = "}o--o|"
			}
			fmt.Fprintf(&b, "    %s %s %s : %q\n", t.name, card, fk.table, fk.from)
		}
	}
	for _, t := range cat.tables {
		fmt.Fprintf(&b, "    %s {\n", t.name)
		for _, c := range t.columns {
			var keys, notes []string
			if c.pk {
				keys = append(keys, "PK")
			}
			if slices.ContainsFunc(t.fks, func(fk foreignKey) bool { return fk.from == c.name }) {
				keys = append(keys, "FK")
			}
			for _, ix := range t.indexes {
				if !ix.unique || ix.origin == "pk" || !slices.Contains(ix.columns, c.name) {
					continue
				}
				if len(ix.columns) == 1 {
					keys = append(keys, "UK")
				} else {
					notes = append(notes, "unique with "+strings.Join(slices.DeleteFunc(slices.Clone(ix.columns), func(s string) bool { return s == c.name }), ", "))
				}
			}
			if c.notNull && !c.pk {
				notes = append(notes, "not null")
			}
			if c.dflt.Valid {
				notes = append(notes, "default "+strings.ReplaceAll(c.dflt.String, `"`, "'"))
			}
			typ := c.typ
			if typ == "" {
				typ = "ANY"
			}
			fmt.Fprintf(&b, "        %s %s", typ, c.name)
			if len(keys) > 0 {
				fmt.Fprintf(&b, " %s", strings.Join(slices.Compact(keys), ", "))
			}
			if len(notes) > 0 {
				fmt.Fprintf(&b, " %q", strings.Join(notes, "; "))
			}
			b.WriteString("\n")
		}
		b.WriteString("    }\n")
	}
	b.WriteString("```\n\n## Indexes\n\n| index | table | on | unique |\n|---|---|---|---|\n")
	for _, o := range cat.objects {
		if o.typ != "index" {
			continue // indexes of UNIQUE and PRIMARY KEY have no SQL: shown in the diagram
		}
		on := normalize(o.sql)
		if i := strings.Index(on, " ON "); i >= 0 {
			on = on[i+len(" ON "):]
		}
		u := ""
		if strings.HasPrefix(o.sql, "CREATE UNIQUE") {
			u = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", o.name, o.table, on, u)
	}
	b.WriteString("\n## Triggers\n\n| trigger | table |\n|---|---|\n")
	for _, o := range cat.objects {
		if o.typ == "trigger" {
			fmt.Fprintf(&b, "| `%s` | %s |\n", o.name, o.table)
		}
	}
	b.WriteString("\n## Migrations\n\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "- `%s` — %s\n", m.File, summary(m))
	}
	return b.String()
}

func colByName(t table, name string) column {
	for _, c := range t.columns {
		if c.name == name {
			return c
		}
	}
	return column{}
}

// summary is the first sentence of a migration's leading comment, or its
// name.
func summary(m schema.Migration) string {
	var words []string
	for _, l := range strings.Split(m.SQL, "\n") {
		c, ok := strings.CutPrefix(strings.TrimSpace(l), "--")
		if !ok || strings.TrimSpace(c) == "" {
			break
		}
		words = append(words, strings.Fields(c)...)
	}
	s := firstSentence(strings.Join(words, " "))
	if s == "" {
		return strings.ReplaceAll(m.Name, "_", " ")
	}
	return s
}

// abbreviations end in a period but not a sentence.
var abbreviations = []string{"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl.", "no."}

// firstSentence returns s up to the first period that ends a sentence: one
// followed by a space and not closing an abbreviation such as "e.g.".
func firstSentence(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '.' || i+1 >= len(s) || s[i+1] != ' ' {
			continue
		}
		word := strings.ToLower(s[strings.LastIndexByte(s[:i], ' ')+1 : i+1])
		if !slices.Contains(abbreviations, strings.TrimLeft(word, "(\"'")) {
			return s[:i+1]
		}
	}
	return s
}
