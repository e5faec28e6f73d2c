package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/schema"
)

// normalize and splitTop are the catalog package's, shared with the
// migration lint and the D1 parity check.
var (
	normalize = catalog.Normalize
	splitTop  = catalog.SplitTop
)

// snapshot is schema.sql: every object's CREATE statement, normalized.
func snapshot(cat catalog.Catalog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s\n-- The schema after every migration in this folder, read from a database\n"+
		"-- migrated by the orgdb runner (schema_migrations, the runner's own table, left out).\n", header)
	for _, o := range cat.Objects {
		b.WriteString("\n")
		switch o.Type {
		case "table":
			b.WriteString(formatTable(o.SQL))
		case "trigger":
			b.WriteString(formatTrigger(o.SQL))
		default:
			b.WriteString(normalize(o.SQL))
		}
		b.WriteString(";\n")
	}
	return b.String()
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
func readme(cat catalog.Catalog, ms []schema.Migration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- %s -->\n\n# The orgdb schema\n\n", header)
	b.WriteString("The schema after all migrations, drawn from the catalog of a database migrated by the\n" +
		"orgdb runner. `schema.sql` holds the full text; `migrations.sum` the checksum of every migration.\n\n")
	b.WriteString("```mermaid\nerDiagram\n")
	for _, t := range cat.Tables {
		for _, fk := range t.FKs {
			card := "}o--||"
			if !colByName(t, fk.From).NotNull {
				card = "}o--o|"
			}
			fmt.Fprintf(&b, "    %s %s %s : %q\n", t.Name, card, fk.Table, fk.From)
		}
	}
	for _, t := range cat.Tables {
		fmt.Fprintf(&b, "    %s {\n", t.Name)
		for _, c := range t.Columns {
			var keys, notes []string
			if c.PK {
				keys = append(keys, "PK")
			}
			if slices.ContainsFunc(t.FKs, func(fk catalog.ForeignKey) bool { return fk.From == c.Name }) {
				keys = append(keys, "FK")
			}
			for _, ix := range t.Indexes {
				if !ix.Unique || ix.Origin == "pk" || !slices.Contains(ix.Columns, c.Name) {
					continue
				}
				if len(ix.Columns) == 1 {
					keys = append(keys, "UK")
				} else {
					notes = append(notes, "unique with "+strings.Join(slices.DeleteFunc(slices.Clone(ix.Columns), func(s string) bool { return s == c.Name }), ", "))
				}
			}
			if c.NotNull && !c.PK {
				notes = append(notes, "not null")
			}
			if c.Default.Valid {
				notes = append(notes, "default "+strings.ReplaceAll(c.Default.String, `"`, "'"))
			}
			typ := c.Type
			if typ == "" {
				typ = "ANY"
			}
			fmt.Fprintf(&b, "        %s %s", typ, c.Name)
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
	for _, o := range cat.Objects {
		if o.Type != "index" {
			continue // indexes of UNIQUE and PRIMARY KEY have no SQL: shown in the diagram
		}
		on := normalize(o.SQL)
		if i := strings.Index(on, " ON "); i >= 0 {
			on = on[i+len(" ON "):]
		}
		u := ""
		if strings.HasPrefix(o.SQL, "CREATE UNIQUE") {
			u = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", o.Name, o.Table, on, u)
	}
	b.WriteString("\n## Triggers\n\n| trigger | table |\n|---|---|\n")
	for _, o := range cat.Objects {
		if o.Type == "trigger" {
			fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, o.Table)
		}
	}
	b.WriteString("\n## Migrations\n\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "- `%s` — %s\n", m.File, summary(m))
	}
	return b.String()
}

func colByName(t catalog.Table, name string) catalog.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return catalog.Column{}
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
