package migratelint

import (
	"strings"

	"github.com/agentops/orgdb/internal/catalog"
)

// rebuild is a table that a migration re-creates under its own name, the
// way SQLite changes what ALTER TABLE cannot: create the new table, copy
// the rows, drop the old one, rename the new one (or rename the old one
// away first, create, copy, drop).
type rebuild struct {
	table  string     // the table's name in the catalog before
	into   string     // the new table's name while rows are copied into it
	line   int        // the statement that puts the new table in place
	create *Statement // the new table's CREATE TABLE, if the migration has it
	copies []insert   // the INSERTs into the new table after its CREATE
}

// findRebuilds finds the rebuilds of a migration from its statements and
// the catalog before it, keyed by the lower-case table name.
func findRebuilds(stmts []Statement, before catalog.Catalog) map[string]*rebuild {
	out := map[string]*rebuild{}
	gone := map[string]bool{}   // tables of before dropped or renamed away so far
	created := map[string]int{} // CREATE TABLE statements, by lower-case name
	into := map[*rebuild]int{}  // the index of each rebuild's CREATE TABLE, -1 if none
	for i := range stmts {
		s := stmts[i]
		if name, ok := createTableName(s); ok {
			key := strings.ToLower(name)
			created[key] = i
			if bt, ok := before.Table(name); ok && gone[key] && out[key] == nil {
				rb := &rebuild{table: bt.Name, into: name, line: s.Line, create: &stmts[i]}
				out[key], into[rb] = rb, i
			}
		}
		if name := dropTableName(s); name != "" {
			if _, ok := before.Table(name); ok {
				gone[name] = true
			}
		}
		if a, ok := alterOf(s); ok && a.kind == "rename table" {
			from, to := strings.ToLower(a.table), strings.ToLower(a.to)
			if _, ok := before.Table(from); ok {
				gone[from] = true
			}
			if bt, ok := before.Table(a.to); ok && gone[to] && out[to] == nil {
				rb := &rebuild{table: bt.Name, into: a.table, line: s.Line}
				into[rb] = -1
				if c, ok := created[from]; ok {
					rb.create, into[rb] = &stmts[c], c
				}
				out[to] = rb
			}
		}
	}
	for _, rb := range out {
		for i := into[rb] + 1; i < len(stmts); i++ {
			if in, ok := insertOf(stmts[i]); ok && strings.EqualFold(in.table, rb.into) {
				rb.copies = append(rb.copies, in)
			}
		}
	}
	return out
}

// createTableName returns the name a CREATE TABLE statement creates.
func createTableName(s Statement) (string, bool) {
	t := s.tokens
	i := skip(t, 0, "CREATE")
	if i == 0 {
		return "", false
	}
	if i < len(t) && (t[i].is("TEMP") || t[i].is("TEMPORARY")) {
		i++
	}
	j := skip(t, i, "TABLE")
	if j == i {
		return "", false
	}
	name, _ := objectName(t, skip(t, j, "IF", "NOT", "EXISTS"))
	return name, name != ""
}

// insert is an INSERT (or REPLACE) statement.
type insert struct {
	stmt     Statement
	table    string
	or       string    // the conflict clause of INSERT OR …: REPLACE, IGNORE, …
	cols     []string  // the column list; nil without one
	items    [][]token // the SELECT's result columns; nil for VALUES or DEFAULT VALUES
	star     bool      // a result column is * or t.*
	hasSel   bool      // INSERT … SELECT
	from     string    // the first table after the SELECT's FROM
	defaults bool      // INSERT … DEFAULT VALUES
}

// insertOf parses an INSERT or REPLACE statement.
func insertOf(s Statement) (insert, bool) {
	t := s.tokens
	in := insert{stmt: s}
	i := 0
	if len(t) > 0 && t[0].is("WITH") {
		i = topLevel(t, 1, "INSERT", "REPLACE")
	}
	switch {
	case i < len(t) && t[i].is("REPLACE"):
		in.or = "REPLACE"
		i++
	case i < len(t) && t[i].is("INSERT"):
		i++
		if i+1 < len(t) && t[i].is("OR") {
			in.or = strings.ToUpper(t[i+1].text)
			i += 2
		}
	default:
		return insert{}, false
	}
	if i >= len(t) || !t[i].is("INTO") {
		return insert{}, false
	}
	in.table, i = objectName(t, i+1)
	if i+1 < len(t) && t[i].is("AS") {
		i += 2
	}
	if i < len(t) && t[i].text == "(" {
		end := closing(t, i)
		in.cols = []string{}
		for _, c := range splitTop(t[i+1 : end]) {
			if len(c) > 0 {
				in.cols = append(in.cols, c[0].name())
			}
		}
		i = end + 1
	}
	in.defaults = i < len(t) && t[i].is("DEFAULT")
	if i < len(t) && t[i].is("WITH") {
		i = topLevel(t, i+1, "SELECT")
	}
	if i < len(t) && t[i].is("SELECT") {
		in.hasSel = true
		in.items = resultColumns(t, i+1)
		if f := topLevel(t, i+1, "FROM"); f < len(t) {
			in.from, _ = objectName(t, f+1)
		}
		for _, it := range in.items {
			if n := len(it); n > 0 && it[n-1].text == "*" {
				in.star = true
			}
		}
	}
	return in, true
}

// nest returns the parenthesis depth after token t, at depth before it.
func nest(depth int, t token) int {
	switch t.text {
	case "(":
		return depth + 1
	case ")":
		return depth - 1
	}
	return depth
}

// closing returns the index of the parenthesis that closes toks[i], or
// len(toks).
func closing(toks []token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		if depth = nest(depth, toks[i]); depth == 0 {
			return i
		}
	}
	return len(toks)
}

// topLevel returns the index of the first of the keywords kws at
// parenthesis depth 0 from toks[i] on, or len(toks).
func topLevel(toks []token, i int, kws ...string) int {
	depth := 0
	for ; i < len(toks); i++ {
		if depth = nest(depth, toks[i]); depth == 0 {
			for _, kw := range kws {
				if toks[i].is(kw) {
					return i
				}
			}
		}
	}
	return len(toks)
}

// resultColumns splits the result columns of a SELECT whose keyword ends
// just before toks[i].
func resultColumns(toks []token, i int) [][]token {
	if i < len(toks) && (toks[i].is("DISTINCT") || toks[i].is("ALL")) {
		i++
	}
	end := topLevel(toks, i, "FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT", "RETURNING")
	return splitTop(toks[i:end])
}

// splitTop splits tokens at the commas outside parentheses, leaving out
// a statement's closing semicolon.
func splitTop(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		if depth = nest(depth, t); depth == 0 && (t.text == "," || t.kind == tkSemi) {
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

// bare reports whether an expression is just the column col (maybe
// qualified by a table name, maybe in parentheses).
func bare(expr []token, col string) bool {
	for len(expr) >= 2 && expr[0].text == "(" && expr[len(expr)-1].text == ")" {
		expr = expr[1 : len(expr)-1]
	}
	if len(expr) == 3 && expr[1].text == "." {
		expr = expr[2:]
	}
	return len(expr) == 1 && (expr[0].kind == tkWord || expr[0].kind == tkQuoted) && strings.EqualFold(expr[0].name(), col)
}

// source returns what an INSERT … SELECT writes into column col of its
// table, whose columns are intoCols in order: the result column's
// expression (nil for SELECT *, which copies by position), and whether
// the INSERT writes the column at all (a column left out of the column
// list gets its default).
func (in insert) source(col string, intoCols []string) (expr []token, written bool) {
	idx := -1
	names := intoCols
	if in.cols != nil {
		names = in.cols
	}
	for k, n := range names {
		if strings.EqualFold(n, col) {
			idx = k
		}
	}
	switch {
	case idx < 0:
		return nil, false
	case in.star:
		return nil, true
	case idx < len(in.items):
		return in.items[idx], true
	}
	return nil, true
}

// change is an UPDATE or DELETE statement.
type change struct {
	verb  string // UPDATE or DELETE
	table string
	where bool     // it has a WHERE clause
	set   []string // the columns an UPDATE sets
}

// changeOf parses an UPDATE or DELETE statement.
func changeOf(s Statement) (change, bool) {
	t := s.tokens
	i := 0
	if len(t) > 0 && t[0].is("WITH") {
		i = topLevel(t, 1, "UPDATE", "DELETE")
	}
	if i >= len(t) || !(t[i].is("UPDATE") || t[i].is("DELETE")) {
		return change{}, false
	}
	c := change{verb: strings.ToUpper(t[i].text)}
	i++
	if c.verb == "UPDATE" && i+1 < len(t) && t[i].is("OR") {
		i += 2
	}
	if c.verb == "DELETE" {
		i = skip(t, i, "FROM")
	}
	c.table, i = objectName(t, i)
	c.where = topLevel(t, i, "WHERE") < len(t)
	if c.verb == "UPDATE" {
		if j := topLevel(t, i, "SET"); j < len(t) {
			end := topLevel(t, j+1, "FROM", "WHERE", "RETURNING", "ORDER", "LIMIT")
			for _, a := range splitTop(t[j+1 : end]) {
				for _, n := range a {
					if n.text == "=" {
						break
					}
					if n.kind == tkWord || n.kind == tkQuoted {
						c.set = append(c.set, n.name())
					}
				}
			}
		}
	}
	return c, true
}

// columnLine returns the line where CREATE TABLE statement s defines
// column col, or the statement's line.
func columnLine(s *Statement, col string) int {
	if s == nil {
		return 0
	}
	depth := 0
	prev := ""
	for _, t := range s.tokens {
		if depth == 1 && (prev == "(" || prev == ",") && (t.kind == tkWord || t.kind == tkQuoted) && strings.EqualFold(t.name(), col) {
			return t.line
		}
		depth, prev = nest(depth, t), t.text
	}
	return s.Line
}

// withoutRowid reports whether a CREATE TABLE statement makes a WITHOUT
// ROWID table.
func withoutRowid(createTable string) bool {
	toks, _ := lex(createTable)
	depth, last := 0, -1
	for i, t := range toks {
		if depth = nest(depth, t); depth == 0 && t.text == ")" {
			last = i
		}
	}
	for i := last + 1; i >= 1 && i < len(toks); i++ {
		if toks[i].is("ROWID") {
			for j := i - 1; j >= 0; j-- {
				if toks[j].kind != tkSpace {
					return toks[j].is("WITHOUT")
				}
			}
		}
	}
	return false
}
