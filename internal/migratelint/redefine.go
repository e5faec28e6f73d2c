package migratelint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/agentops/orgdb/internal/catalog"
)

// redefined applies the rules about what a rebuild changes in the
// definition of the columns it keeps: their type, NOT NULL and the
// primary key.
func (r *replay) redefined(bt, at catalog.Table, rb *rebuild) {
	var intoCols []string
	for _, c := range at.Columns {
		intoCols = append(intoCols, c.Name)
	}
	for _, was := range bt.Columns {
		now, ok := at.Column(was.Name)
		if !ok {
			continue // DROP_COLUMN
		}
		line := columnLine(rb.create, now.Name)
		if line == 0 {
			line = rb.line
		}
		if t1, t2 := typeName(was.Type), typeName(now.Type); t1 != t2 {
			a1, a2 := catalog.Affinity(was.Type), catalog.Affinity(now.Type)
			effect := fmt.Sprintf("same affinity %s, so the stored values stay, but sqlc generates the Go type from the declared type, so the service's code may no longer compile", a1)
			if a1 != a2 {
				effect = fmt.Sprintf("affinity %s → %s: the copy converts the values it stores (with INTEGER or NUMERIC, text that looks like a number becomes a number: '007' is stored as 7; with TEXT, numbers become text), "+
					"and sqlc generates another Go type for the service", a1, a2)
			}
			r.addColumn(line, TypeChange, bt.Name, now.Name, "rebuild changes the type of %s.%s from %s to %s (%s); add a new column instead, or say why with -- lint:allow %s reason",
				bt.Name, now.Name, orNone(was.Type), orNone(now.Type), effect, TypeChange)
		}
		if nonNull(was) && !nonNull(now) {
			r.addColumn(line, DropNotNull, bt.Name, now.Name, "rebuild drops NOT NULL from %s.%s: sqlc now generates a pointer (or sql.Null) type for it, which breaks the service's code that reads or writes it, "+
				"and the previous binary, still running during a rollout, fails to scan a NULL; if intended, change the callers in the same change and say so with -- lint:allow %s reason",
				bt.Name, now.Name, DropNotNull)
		}
		if !nonNull(was) && now.NotNull && !r.backfilled(rb, now, intoCols) {
			r.addColumn(line, ModifyNotNull, bt.Name, now.Name, "rebuild makes %s.%s NOT NULL but copies it as it is: every row where it is NULL fails the copy and the migration; "+
				"backfill it in the copy (coalesce(%s, <value>)) or with an UPDATE … SET %s = <value> WHERE %s IS NULL before it",
				bt.Name, now.Name, now.Name, now.Name, now.Name)
		}
	}
	if why := keyChange(r.before, bt, r.after, at); why != "" {
		line := rb.line
		if rb.create != nil {
			line = rb.create.Line
		}
		r.add(line, PKChange, bt.Name, "rebuild changes the primary key of %s: %s; if intended, say why with -- lint:allow %s reason", bt.Name, why, PKChange)
	}
}

// nonNull reports whether sqlc treats a column as NOT NULL: declared so,
// or part of the primary key.
func nonNull(c catalog.Column) bool { return c.NotNull || c.PK }

var spaces = regexp.MustCompile(`\s+`)

// typeName is a declared type as compared: upper case, single spaces.
func typeName(t string) string {
	return spaces.ReplaceAllString(strings.ToUpper(strings.TrimSpace(t)), " ")
}

func orNone(t string) string {
	if strings.TrimSpace(t) == "" {
		return "no type"
	}
	return t
}

// backfilled reports whether a rebuild gives column c (NOT NULL in the new
// table) a value where the old one is NULL: each copy writes an
// expression other than the bare column, or leaves the column out so its
// DEFAULT applies, or is an INSERT OR REPLACE (which puts the DEFAULT in
// place of a NULL), or follows an UPDATE that sets the column. A rebuild
// with no INSERT … SELECT copies nothing, so has nothing to backfill
// (ROWS_LOST reports it).
func (r *replay) backfilled(rb *rebuild, c catalog.Column, intoCols []string) bool {
	for _, in := range rb.copies {
		if !in.hasSel {
			continue
		}
		expr, written := in.source(c.Name, intoCols)
		switch {
		case !written && c.Default.Valid, in.or == "REPLACE" && c.Default.Valid:
		case !written:
			return false // NULL goes in, whatever the old value
		case expr != nil && !bare(expr, c.Name):
		case !r.setBefore(in.stmt, c.Name):
			return false
		}
	}
	return true
}

// setBefore reports whether an UPDATE before statement s sets column col.
func (r *replay) setBefore(s Statement, col string) bool {
	for _, u := range r.stmts {
		if u.Line >= s.Line {
			return false
		}
		if c, ok := changeOf(u); ok && c.verb == "UPDATE" && slices.ContainsFunc(c.set, func(n string) bool { return strings.EqualFold(n, col) }) {
			return true
		}
	}
	return false
}

// keyChange says how the primary key of table bt changed into at's: other
// columns, a rowid alias gained or lost, WITHOUT ROWID added or removed;
// "" if it did not.
func keyChange(before catalog.Catalog, bt catalog.Table, after catalog.Catalog, at catalog.Table) string {
	k1, k2 := pkCols(bt), pkCols(at)
	wr1, wr2 := withoutRowid(tableSQL(before, bt.Name)), withoutRowid(tableSQL(after, at.Name))
	var why []string
	if !slices.Equal(k1, k2) {
		why = append(why, fmt.Sprintf("PRIMARY KEY (%s) becomes %s: foreign keys that reference it, ON CONFLICT clauses and the service's lookups by key no longer match, and rows the old key kept apart may collide",
			strings.Join(k1, ", "), keyText(k2)))
	}
	if a1, a2 := rowidAlias(bt, wr1), rowidAlias(at, wr2); a1 != a2 {
		if a1 {
			why = append(why, fmt.Sprintf("%s is no longer an alias of the rowid (declared %s, not INTEGER): the rowid and %s part ways, and VACUUM may renumber the rowid that nothing copies any more", k1[0], typeOf(at, k1[0]), k1[0]))
		} else {
			why = append(why, fmt.Sprintf("%s becomes an alias of the rowid (INTEGER PRIMARY KEY): a value that is not an integer fails the copy, and the rowids the table had are replaced by %s", k2[0], k2[0]))
		}
	}
	if wr1 != wr2 {
		if wr2 {
			why = append(why, "it becomes WITHOUT ROWID: queries, triggers and tools that use rowid fail, and AUTOINCREMENT is refused")
		} else {
			why = append(why, "it is no longer WITHOUT ROWID: rows are stored by rowid, and lookups by the key go through an extra index")
		}
	}
	return strings.Join(why, "; ")
}

func keyText(cols []string) string {
	if len(cols) == 0 {
		return "no primary key (rows are identified by the rowid only)"
	}
	return "PRIMARY KEY (" + strings.Join(cols, ", ") + ")"
}

// pkCols returns the primary key's columns, lower-case, in key order
// (that of the key's index; a rowid alias has none and is one column).
func pkCols(t catalog.Table) []string {
	for _, ix := range t.Indexes {
		if ix.Origin == "pk" {
			out := make([]string, len(ix.Columns))
			for i, c := range ix.Columns {
				out[i] = strings.ToLower(c)
			}
			return out
		}
	}
	var out []string
	for _, c := range t.Columns {
		if c.PK {
			out = append(out, strings.ToLower(c.Name))
		}
	}
	return out
}

// rowidAlias reports whether the table's primary key is an alias of the
// rowid: one column declared exactly INTEGER in a rowid table.
func rowidAlias(t catalog.Table, withoutRowid bool) bool {
	k := pkCols(t)
	return !withoutRowid && len(k) == 1 && typeName(typeOf(t, k[0])) == "INTEGER"
}

func typeOf(t catalog.Table, col string) string {
	c, _ := t.Column(col)
	return c.Type
}

// uniqueBefore reports whether the rows of table bt were unique on a
// subset of index ix's columns already (a UNIQUE constraint, index or
// rowid alias): then ix cannot fail on the rows there.
func uniqueBefore(bt catalog.Table, ix catalog.Index) bool {
	for _, o := range bt.Indexes {
		if o.Unique && !o.Partial && !slices.Contains(o.Columns, "expr") && subset(o.Columns, ix.Columns) {
			return true
		}
	}
	k := pkCols(bt)
	return rowidAlias(bt, false) && subset(k, ix.Columns)
}

// subset reports whether every column of a is in b (case-insensitively).
func subset(a, b []string) bool {
	for _, c := range a {
		if !slices.ContainsFunc(b, func(d string) bool { return strings.EqualFold(c, d) }) {
			return false
		}
	}
	return true
}

// shadowedUnique reports each unique index this migration creates on
// table at (one not among had, the signatures before) that a table-level
// UNIQUE or PRIMARY KEY constraint still on the table contradicts: the
// index allows what the constraint refuses (weaker: the constraint still
// wins), refuses more (stronger: the constraint is redundant, and a
// relaxing intent has the opposite effect) or duplicates it.
func (r *replay) shadowedUnique(at catalog.Table, had []string) {
	for _, n := range at.Indexes {
		if !n.Unique || n.Origin != "c" || slices.Contains(n.Columns, "expr") || slices.Contains(had, indexSig(r.after, n)) {
			continue
		}
		for _, o := range at.Indexes {
			if o.Name == n.Name || !o.Unique || (o.Origin != "u" && o.Origin != "pk") || o.Partial || slices.Contains(o.Columns, "expr") {
				continue
			}
			within, covers := subset(o.Columns, n.Columns), subset(n.Columns, o.Columns)
			con := "UNIQUE (" + strings.Join(o.Columns, ", ") + ")"
			if o.Origin == "pk" {
				con = "PRIMARY KEY (" + strings.Join(o.Columns, ", ") + ")"
			}
			what := fmt.Sprintf("new unique index %s (%s)", n.Name, strings.Join(n.Columns, ", "))
			if n.Partial {
				what = fmt.Sprintf("new partial unique index %s (%s)", n.Name, strings.Join(n.Columns, ", "))
			}
			var msg string
			switch {
			case within && (!covers || n.Partial):
				msg = fmt.Sprintf("%s is weaker than the table's %s, which still applies: rows the index would allow are still refused (the original agent-ops 0004 case); "+
					"a table-level constraint goes only by rebuilding the table without it (create new, copy, drop, rename)", what, con)
			case within:
				msg = fmt.Sprintf("%s duplicates the table's %s: drop it, or, to change the rule, rebuild the table without the constraint", what, con)
			case covers:
				msg = fmt.Sprintf("%s is stronger than the table's %s, which still applies and is now redundant: if the index was meant to replace the constraint, rebuild the table without it; "+
					"if it was meant to relax it, it does the opposite", what, con)
			default:
				continue
			}
			line := r.lineOf(func(s Statement) bool { return s.first("CREATE") && s.mentions(n.Name) }, func(s Statement) bool { return s.mentions(at.Name) })
			r.add(line, ShadowedUnique, at.Name, "%s; or say why with -- lint:allow %s reason", msg, ShadowedUnique)
		}
	}
}
