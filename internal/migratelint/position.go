package migratelint

import (
	"regexp"
	"strings"
)

// One position per error: whichever tool finds a failing statement (the
// runner applying a migration, sqlc reading a query), the error names the
// token that fails, file:line:column, found the same way.

// span is a statement of a file as token indexes and byte offsets.
type span struct {
	from, to int // token indexes, inclusive
	endLine  int // line of its last token
}

// spans cuts src into statements as Split does, keeping token indexes.
func spans(toks []token) []span {
	var out []span
	state, start := 0, -1
	for i, t := range toks {
		if start < 0 && t.kind != tkSpace && t.kind != tkSemi {
			start = i
		}
		state = next(state, t)
		if t.kind == tkSemi && state == 1 {
			if start >= 0 {
				out = append(out, span{from: start, to: i, endLine: t.line})
			}
			start = -1
		}
	}
	if start >= 0 {
		last := len(toks) - 1
		for last > start && toks[last].kind == tkSpace {
			last--
		}
		out = append(out, span{from: start, to: len(toks) - 1, endLine: toks[last].line})
	}
	return out
}

// ErrorName is the name an SQLite or sqlc error message is about, the
// token to point at: `near "x": syntax error`, `no such column: t.x`,
// `column "x" does not exist`, `table x already exists`, …; "" if none.
func ErrorName(msg string) string {
	for _, re := range errorNames {
		if m := re.FindStringSubmatch(msg); m != nil {
			name := m[1]
			if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
				name = name[i+1:]
			}
			return name
		}
	}
	return ""
}

var errorNames = []*regexp.Regexp{
	regexp.MustCompile(`near "([^"]+)"`),
	regexp.MustCompile(`no such (?:column|table|index|function|collation|view|trigger): ([^\s,)]+)`),
	regexp.MustCompile(`(?:column|relation|table|function|table alias) "([^"]+)" does not exist`),
	regexp.MustCompile(`(?:table|index|trigger|view) "?([^\s"]+)"? already exists`),
	regexp.MustCompile(`duplicate column name: (\S+)`),
	regexp.MustCompile(`ambiguous column name: (\S+)`),
}

// lineCol is the 1-based line and column of byte offset off in src.
func lineCol(src string, off int) (line, col int) {
	line = 1 + strings.Count(src[:off], "\n")
	return line, off - strings.LastIndexByte(src[:off], '\n')
}

// locate returns the position of the first token of toks[s.from:s.to+1]
// that is name (case-insensitively, unquoted), or of the statement's
// first token.
func locate(src string, toks []token, s span, name string) (line, col int) {
	off := 0
	for _, t := range toks[:s.from] {
		off += len(t.text)
	}
	first := off
	for _, t := range toks[s.from : s.to+1] {
		if name != "" && (t.kind == tkWord || t.kind == tkQuoted) && strings.EqualFold(t.name(), name) {
			return lineCol(src, off)
		}
		if name != "" && t.kind == tkOther && strings.EqualFold(t.text, name) {
			return lineCol(src, off)
		}
		off += len(t.text)
	}
	return lineCol(src, first)
}

// FailingToken returns the position of the token a failing statement of
// a migration fails at: the statement of src that ends on line endLine
// (the runner found it by applying ever longer prefixes), and in it the
// name the error message is about, else the statement's first token.
func FailingToken(src string, endLine int, msg string) (line, col int) {
	toks, _ := lex(src)
	ss := spans(toks)
	name := ErrorName(msg)
	var candidates []span
	for _, s := range ss {
		if s.endLine == endLine {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		for _, s := range ss {
			if toks[s.from].line <= endLine {
				candidates = []span{s}
			}
		}
	}
	if len(candidates) == 0 {
		return endLine, 1
	}
	for _, s := range candidates {
		if l, c := locate(src, toks, s, name); name != "" && tokenIs(src, l, c, name) {
			return l, c
		}
	}
	return locate(src, toks, candidates[0], "")
}

// TokenInStatement moves a position at or before a statement's failing
// token (sqlc names the start of a query for some errors) onto the name
// the message is about, if the statement holds it after that position;
// else it returns the position as it was.
func TokenInStatement(src string, line, col int, msg string) (int, int) {
	name := ErrorName(msg)
	if name == "" {
		return line, col
	}
	toks, _ := lex(src)
	off, pos := 0, -1
	for i, t := range toks {
		if l, c := lineCol(src, off); pos < 0 && (l > line || l == line && c >= col) {
			pos = i
		}
		off += len(t.text)
	}
	if pos < 0 {
		return line, col
	}
	end := pos
	for end < len(toks)-1 && toks[end].kind != tkSemi {
		end++
	}
	if l, c := locate(src, toks, span{from: pos, to: end}, name); tokenIs(src, l, c, name) {
		return l, c
	}
	return line, col
}

// tokenIs reports whether the token at line:col of src is name.
func tokenIs(src string, line, col int, name string) bool {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) {
		return false
	}
	rest := strings.TrimLeft(lines[line-1][col-1:], "\"`[")
	return len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name)
}
