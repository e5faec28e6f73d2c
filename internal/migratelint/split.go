package migratelint

import "strings"

// Statement is one SQL statement of a migration file.
type Statement struct {
	SQL    string // from its first token to its semicolon, comments included
	Line   int    // 1-based line of its first token
	tokens []token
}

// Comment is a comment of a migration file, without its -- or /* */.
type Comment struct {
	Text string
	Line int
}

type tokenKind int

const (
	tkSpace tokenKind = iota // whitespace and comments
	tkSemi
	tkWord   // a keyword or bare identifier
	tkQuoted // "name", `name`, [name]
	tkString // 'literal'
	tkOther  // punctuation, numbers glued to punctuation, …
)

type token struct {
	kind tokenKind
	text string // a word as written; a quoted name unquoted
	line int
}

// Split cuts a migration into statements the way SQLite's sqlite3_complete
// does: a semicolon ends a statement unless it is inside a string, a
// quoted name, a comment, or the body of a CREATE TRIGGER (whose BEGIN …
// END holds statements of its own and is not a transaction). It also
// returns every comment with its line, for lint:allow.
func Split(src string) ([]Statement, []Comment) {
	toks, comments := lex(src)
	var out []Statement
	state, start := 0, -1
	for i, t := range toks {
		if start < 0 && t.kind != tkSpace && t.kind != tkSemi {
			start = i
		}
		state = next(state, t)
		if t.kind == tkSemi && state == 1 {
			if start >= 0 {
				out = append(out, statement(src, toks, start, i))
			}
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, statement(src, toks, start, len(toks)-1))
	}
	return out, comments
}

func statement(src string, toks []token, from, to int) Statement {
	var ts []token
	for _, t := range toks[from : to+1] {
		if t.kind != tkSpace {
			ts = append(ts, t)
		}
	}
	return Statement{SQL: strings.TrimSpace(joinRaw(toks[from : to+1])), Line: toks[from].line, tokens: ts}
}

// next is sqlite3_complete's state machine (src/complete.c): states
// 0 INVALID, 1 START, 2 NORMAL, 3 EXPLAIN, 4 CREATE, 5 TRIGGER, 6 SEMI,
// 7 END; a statement is complete on a semicolon that leads to START.
func next(state int, t token) int {
	const (
		semi = iota
		ws
		other
		explain
		create
		temp
		trigger
		end
	)
	table := [8][8]int{
		/* 0 INVALID */ {1, 0, 2, 3, 4, 2, 2, 2},
		/* 1 START   */ {1, 1, 2, 3, 4, 2, 2, 2},
		/* 2 NORMAL  */ {1, 2, 2, 2, 2, 2, 2, 2},
		/* 3 EXPLAIN */ {1, 3, 3, 2, 4, 2, 2, 2},
		/* 4 CREATE  */ {1, 4, 2, 2, 2, 4, 5, 2},
		/* 5 TRIGGER */ {6, 5, 5, 5, 5, 5, 5, 5},
		/* 6 SEMI    */ {6, 6, 5, 5, 5, 5, 5, 7},
		/* 7 END     */ {1, 7, 5, 5, 5, 5, 5, 5},
	}
	tk := other
	switch t.kind {
	case tkSpace:
		tk = ws
	case tkSemi:
		tk = semi
	case tkWord:
		switch strings.ToUpper(t.text) {
		case "EXPLAIN":
			tk = explain
		case "CREATE":
			tk = create
		case "TEMP", "TEMPORARY":
			tk = temp
		case "TRIGGER":
			tk = trigger
		case "END":
			tk = end
		}
	}
	return table[state][tk]
}

func joinRaw(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

func isIDChar(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lex splits src into tokens (every byte belongs to one token; a token's
// text is its source text, except that quoted names also get unquoted
// copies through name()) and collects the comments.
func lex(src string) ([]token, []Comment) {
	var toks []token
	var comments []Comment
	line := 1
	for i := 0; i < len(src); {
		start, startLine := i, line
		kind := tkOther
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			kind = tkSpace
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			kind = tkSpace
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			comments = append(comments, Comment{Text: src[i+2 : i+j], Line: line})
			i += j
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			kind = tkSpace
			j := strings.Index(src[i+2:], "*/")
			end := len(src)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			text := strings.TrimSuffix(src[i+2:end], "*/")
			for k, l := range strings.Split(text, "\n") {
				comments = append(comments, Comment{Text: l, Line: line + k})
			}
			i = end
		case c == ';':
			kind = tkSemi
			i++
		case c == '\'' || c == '"' || c == '`':
			kind = tkQuoted
			if c == '\'' {
				kind = tkString
			}
			i++
			for i < len(src) {
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
		case c == '[':
			kind = tkQuoted
			j := strings.IndexByte(src[i:], ']')
			if j < 0 {
				i = len(src)
			} else {
				i += j + 1
			}
		case isIDChar(c):
			kind = tkWord
			for i < len(src) && isIDChar(src[i]) {
				i++
			}
		default:
			i++
		}
		line += strings.Count(src[start:i], "\n")
		toks = append(toks, token{kind: kind, text: src[start:i], line: startLine})
	}
	return toks, comments
}

// name returns a word or quoted name as SQLite reads it: unquoted.
func (t token) name() string {
	switch t.kind {
	case tkQuoted:
		s := t.text
		if len(s) >= 2 {
			q := s[0]
			s = s[1 : len(s)-1]
			if q == '"' || q == '`' {
				s = strings.ReplaceAll(s, string(q)+string(q), string(q))
			}
		}
		return s
	case tkWord:
		return t.text
	}
	return ""
}

// is reports whether t is the keyword kw (case-insensitively).
func (t token) is(kw string) bool { return t.kind == tkWord && strings.EqualFold(t.text, kw) }

// Code returns the SQL of src without its comments and with every run of
// whitespace as one space: two files with the same Code differ only in
// comments and layout, and SQLite runs them alike.
func Code(src string) string {
	toks, _ := lex(src)
	var words []string
	for _, t := range toks {
		if t.kind != tkSpace {
			words = append(words, t.text)
		}
	}
	return strings.Join(words, " ")
}
