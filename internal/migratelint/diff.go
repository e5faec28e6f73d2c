package migratelint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agentops/orgdb/internal/catalog"
)

// diff applies the rules that compare the catalog before and after the
// migration.
func (r *replay) diff() {
	renamed := map[string]bool{} // tables and columns renamed (reported by statements)
	renamedTo := map[string]string{}
	for _, s := range r.stmts {
		if a, ok := alterOf(s); ok {
			switch a.kind {
			case "rename table":
				_, existed := r.before.Table(a.table)
				_, exists := r.after.Table(a.table)
				renamed[strings.ToLower(a.table)] = true
				renamedTo[strings.ToLower(a.table)] = a.to
				if existed && !exists {
					r.add(s.Line, RenameTable, a.table, "renames table %s to %s: the binary still running during a rollout breaks on the old name; add the new table and copy, or say why with -- lint:allow %s reason", a.table, a.to, RenameTable)
				}
			case "rename column":
				renamed[strings.ToLower(a.table+"."+a.column)] = true
			}
		}
	}
	for _, s := range r.stmts {
		name := dropTableName(s)
		if name == "" {
			continue
		}
		if _, ok := r.before.Table(name); !ok {
			continue
		}
		for _, u := range r.before.Tables {
			if strings.EqualFold(u.Name, name) {
				continue
			}
			for _, fk := range u.FKs {
				if strings.EqualFold(fk.Table, name) && strings.EqualFold(fk.OnDelete, "CASCADE") {
					r.add(s.Line, DropCascade, name, "drops table %s, which %s.%s references with ON DELETE CASCADE: with foreign keys on, DROP TABLE deletes every row first and the rows of %s that reference them go too (even when %s is rebuilt under the same name)",
						name, u.Name, fk.From, u.Name, name)
				}
			}
		}
	}
	for _, bt := range r.before.Tables {
		key := strings.ToLower(bt.Name)
		at, ok := r.after.Table(bt.Name)
		if !ok {
			if !renamed[key] {
				line := r.lineOf(func(s Statement) bool { return dropTableName(s) == key }, func(s Statement) bool { return s.mentions(bt.Name) })
				r.add(line, DropTable, bt.Name, "drops table %s and its rows: if that is the intent, say why with -- lint:allow %s reason", bt.Name, DropTable)
			}
			continue
		}
		for _, c := range bt.Columns {
			if _, ok := at.Column(c.Name); ok || renamed[key+"."+strings.ToLower(c.Name)] {
				continue
			}
			line := r.lineOf(func(s Statement) bool {
				a, ok := alterOf(s)
				return ok && a.kind == "drop column" && strings.EqualFold(a.table, bt.Name) && strings.EqualFold(a.column, c.Name)
			}, func(s Statement) bool { return dropTableName(s) == key }, func(s Statement) bool { return s.mentions(bt.Name) })
			r.add(line, DropColumn, bt.Name, "drops column %s.%s and its values: if that is the intent, say why with -- lint:allow %s reason", bt.Name, c.Name, DropColumn)
		}
		had := indexSigs(r.before, bt)
		for _, ix := range at.Indexes {
			sig := indexSig(r.after, ix)
			if !ix.Unique || ix.Origin == "pk" || slices.Contains(had, sig) || uniqueBefore(bt, ix) {
				continue
			}
			line := r.lineOf(func(s Statement) bool { return s.first("CREATE") && s.mentions(ix.Name) },
				func(s Statement) bool { return dropTableName(s) == key }, func(s Statement) bool { return s.mentions(bt.Name) })
			r.add(line, Unique, bt.Name, "adds a UNIQUE index on existing table %s (%s): it fails on duplicates production may already hold; remove them first in this migration and say so with -- lint:allow %s reason",
				bt.Name, strings.Join(ix.Columns, ", "), Unique)
		}
		r.shadowedUnique(at, had)
		rb := r.rebuilds[key]
		if rb == nil {
			// Renaming a table that others reference rewrites their
			// foreign keys to the new name: right for a plain rename
			// (RENAME_TABLE), wrong for a rebuild that renames the original
			// away first and drops it, leaving them pointing at nothing.
			for _, fk := range bt.FKs {
				to := fk.Table
				if n, ok := renamedTo[strings.ToLower(to)]; ok {
					if _, exists := r.after.Table(n); exists {
						to = n
					}
				}
				if !slices.ContainsFunc(at.FKs, func(n catalog.ForeignKey) bool {
					return strings.EqualFold(n.From, fk.From) && strings.EqualFold(n.Table, to) && strings.EqualFold(n.To, fk.To) && strings.EqualFold(n.OnDelete, fk.OnDelete)
				}) {
					line := r.lineOf(func(s Statement) bool { return s.first("ALTER") && s.mentions(fk.Table) }, func(s Statement) bool { return s.mentions(bt.Name) })
					r.add(line, RebuildLost, bt.Name, "table %s loses its foreign key %s → %s(%s) ON DELETE %s (renaming the referenced table rewrites it): rebuild by create new, copy, drop, rename",
						bt.Name, fk.From, fk.Table, fk.To, fk.OnDelete)
				}
			}
		}
		if rb != nil {
			r.redefined(bt, at, rb)
			if lost := r.lost(bt, at); len(lost) > 0 {
				line := r.lineOf(func(s Statement) bool { return dropTableName(s) == key }, func(s Statement) bool { return s.mentions(bt.Name) })
				r.add(line, RebuildLost, bt.Name, "rebuilds table %s and loses what it had: %s; re-create them in this migration", bt.Name, strings.Join(lost, ", "))
			}
		}
	}
	r.positional()
}

// lost lists what table bt had before and its rebuilt at lacks: indexes,
// triggers, CHECK constraints and foreign keys.
func (r *replay) lost(bt, at catalog.Table) []string {
	var out []string
	now := indexSigs(r.after, at)
	for _, ix := range bt.Indexes {
		if ix.Origin != "pk" && !slices.Contains(now, indexSig(r.before, ix)) {
			out = append(out, fmt.Sprintf("index %s (%s)", ix.Name, strings.Join(ix.Columns, ", ")))
		}
	}
	for _, o := range r.before.Objects {
		if o.Type != "trigger" || !strings.EqualFold(o.Table, bt.Name) {
			continue
		}
		if !slices.ContainsFunc(r.after.Objects, func(a catalog.Object) bool {
			return a.Type == "trigger" && strings.EqualFold(a.Name, o.Name) && strings.EqualFold(a.Table, at.Name)
		}) {
			out = append(out, "trigger "+o.Name)
		}
	}
	checksNow := checks(tableSQL(r.after, at.Name))
	for _, c := range checks(tableSQL(r.before, bt.Name)) {
		if !slices.Contains(checksNow, c) {
			out = append(out, "CHECK ("+c+")")
		}
	}
	for _, fk := range bt.FKs {
		if !slices.ContainsFunc(at.FKs, func(n catalog.ForeignKey) bool {
			return strings.EqualFold(n.From, fk.From) && strings.EqualFold(n.Table, fk.Table) && strings.EqualFold(n.To, fk.To) && strings.EqualFold(n.OnDelete, fk.OnDelete)
		}) {
			out = append(out, fmt.Sprintf("foreign key %s → %s(%s) ON DELETE %s", fk.From, fk.Table, fk.To, fk.OnDelete))
		}
	}
	return out
}

// indexSig identifies an index by what it does, not its name: unique or
// not, its columns, and the WHERE of a partial index.
func indexSig(cat catalog.Catalog, ix catalog.Index) string {
	sig := fmt.Sprintf("%t %s", ix.Unique, strings.ToLower(strings.Join(ix.Columns, ",")))
	if ix.Partial {
		for _, o := range cat.Objects {
			if o.Type == "index" && o.Name == ix.Name {
				n := catalog.Normalize(o.SQL)
				if i := strings.LastIndex(strings.ToUpper(n), " WHERE "); i >= 0 {
					sig += " where " + n[i+len(" WHERE "):]
				}
			}
		}
	}
	if slices.Contains(ix.Columns, "expr") {
		for _, o := range cat.Objects {
			if o.Type == "index" && o.Name == ix.Name {
				n := catalog.Normalize(o.SQL)
				if i := strings.Index(n, "("); i >= 0 {
					sig += " on " + n[i:]
				}
			}
		}
	}
	return sig
}

func indexSigs(cat catalog.Catalog, t catalog.Table) []string {
	var out []string
	for _, ix := range t.Indexes {
		if ix.Origin != "pk" {
			out = append(out, indexSig(cat, ix))
		}
	}
	return out
}

func tableSQL(cat catalog.Catalog, name string) string {
	for _, o := range cat.Objects {
		if o.Type == "table" && strings.EqualFold(o.Name, name) {
			return o.SQL
		}
	}
	return ""
}

// checks returns the normalized expressions of the CHECK constraints of a
// CREATE TABLE statement, column and table constraints alike.
func checks(createTable string) []string {
	toks, _ := lex(createTable)
	var out []string
	for i := 0; i < len(toks); i++ {
		if !toks[i].is("CHECK") {
			continue
		}
		j := i + 1
		for j < len(toks) && toks[j].kind == tkSpace {
			j++
		}
		if j >= len(toks) || toks[j].text != "(" {
			continue
		}
		depth, k := 0, j
		var b strings.Builder
		for ; k < len(toks); k++ {
			switch toks[k].text {
			case "(":
				depth++
			case ")":
				depth--
			}
			b.WriteString(toks[k].text)
			if depth == 0 {
				break
			}
		}
		expr := strings.TrimSpace(b.String())
		expr = strings.TrimSuffix(strings.TrimPrefix(expr, "("), ")")
		out = append(out, catalog.Normalize(expr))
		i = k
	}
	return out
}
