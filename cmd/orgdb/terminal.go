package main

// What the CLI prints is safe for a terminal, and repeats no secret.
//
// Values read from the database (names, emails, ids) are printed through
// show: one that is not plain printable text is quoted with Go's escapes,
// so a line break in a name cannot print a fake row and an ESC cannot
// reach the terminal. Error and warning lines go through oneLine, which
// escapes the same characters. An argument is repeated in an error only
// once it is known not to be a pasted secret: an email that parses, or a
// word that could be a command's name.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// printable reports whether r can be printed as it is: a graphic
// character or a space, or a zero-width joiner (emoji sequences); not a
// control character, a bidirectional control or another format character.
func printable(r rune) bool {
	return (unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r)) || r == '\u200c' || r == '\u200d'
}

// show returns v as it is if every character of it is printable, else v
// quoted with Go's escapes ("Eve\nroot", "\x1b[2J").
func show(v string) string {
	for _, r := range v {
		if r == unicode.ReplacementChar || !printable(r) {
			return strconv.Quote(v)
		}
	}
	return v
}

// escapeLine replaces each character of s that is not printable with its
// Go escape (\x1b, \u202e), leaving the rest: for a line of text that may
// carry a value from the database or the command line.
func escapeLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if printable(r) && r != unicode.ReplacementChar {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\x1b'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// commandName matches what could be the name of a command: lower-case
// words joined by dashes, at most 20 characters. Anything else (a pasted
// key, with its digits, a path) is not repeated in an error.
var commandName = regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)

// maxCommandName bounds a command name that is repeated.
const maxCommandName = 20

// quoteWord returns arg quoted if it could be a command's name, else a
// phrase saying it is not repeated.
func quoteWord(arg string) string {
	if isCommandName(arg) {
		return strconv.Quote(arg)
	}
	return "(not repeated: it is not a command name)"
}

// quoteWords is quoteWord for the words of a command path ("keys sett").
func quoteWords(args []string) string {
	for _, a := range args {
		if !isCommandName(a) {
			return quoteWord(a)
		}
	}
	return strconv.Quote(strings.Join(args, " "))
}

// isCommandName reports whether arg could be the name of a command.
func isCommandName(arg string) bool {
	return len(arg) <= maxCommandName && commandName.MatchString(arg)
}

// escapeJSON writes each character of JSON text b that is not printable
// as a \uXXXX escape (a surrogate pair above U+FFFF), leaving the JSON
// the same value: encoding/json escapes the C0 controls but not DEL, the
// C1 controls or a bidirectional override. The line breaks and spaces of
// the indentation stay.
func escapeJSON(b []byte) []byte {
	var out strings.Builder
	for _, r := range string(b) {
		if r == '\n' || (printable(r) && r != unicode.ReplacementChar) {
			out.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	return []byte(out.String())
}
