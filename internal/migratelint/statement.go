package migratelint

import "strings"

// first reports whether the statement starts with keyword kw.
func (s Statement) first(kw string) bool { return len(s.tokens) > 0 && s.tokens[0].is(kw) }

// mentions reports whether the statement names name (a word or a quoted
// name, case-insensitively).
func (s Statement) mentions(name string) bool {
	for _, t := range s.tokens {
		if (t.kind == tkWord || t.kind == tkQuoted) && strings.EqualFold(t.name(), name) {
			return true
		}
	}
	return false
}

// objectName reads a possibly schema-qualified name at toks[i] and returns
// the name and the index after it.
func objectName(toks []token, i int) (string, int) {
	if i >= len(toks) {
		return "", i
	}
	if i+2 < len(toks) && toks[i+1].text == "." {
		return toks[i+2].name(), i + 3
	}
	return toks[i].name(), i + 1
}

// skip advances i past the keywords kws if they all follow in order.
func skip(toks []token, i int, kws ...string) int {
	for k, kw := range kws {
		if i+k >= len(toks) || !toks[i+k].is(kw) {
			return i
		}
	}
	return i + len(kws)
}

// dropTableName returns the lower-case name a DROP TABLE statement drops,
// or "".
func dropTableName(s Statement) string {
	t := s.tokens
	if len(t) < 3 || !t[0].is("DROP") || !t[1].is("TABLE") {
		return ""
	}
	name, _ := objectName(t, skip(t, 2, "IF", "EXISTS"))
	return strings.ToLower(name)
}

// alter is an ALTER TABLE statement.
type alter struct {
	kind   string // "rename table", "rename column", "drop column", "add column"
	table  string
	column string // renamed or dropped column
	to     string // new name
}

func alterOf(s Statement) (alter, bool) {
	t := s.tokens
	if len(t) < 4 || !t[0].is("ALTER") || !t[1].is("TABLE") {
		return alter{}, false
	}
	table, i := objectName(t, 2)
	a := alter{table: table}
	if i >= len(t) {
		return alter{}, false
	}
	switch {
	case t[i].is("RENAME") && i+2 < len(t) && t[i+1].is("TO"):
		a.kind, a.to = "rename table", t[i+2].name()
	case t[i].is("RENAME"):
		j := skip(t, i+1, "COLUMN")
		if j+2 < len(t) && t[j+1].is("TO") {
			a.kind, a.column, a.to = "rename column", t[j].name(), t[j+2].name()
		}
	case t[i].is("DROP"):
		j := skip(t, i+1, "COLUMN")
		if j < len(t) {
			a.kind, a.column = "drop column", t[j].name()
		}
	case t[i].is("ADD"):
		a.kind = "add column"
	}
	return a, a.kind != ""
}
