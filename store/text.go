package store

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/agentops/orgdb"
)

// checkText refuses a name (a user's name, the organization's, an
// integration's service) that is not one line of printable text: a
// control character (a line break, a tab, ESC, DEL, the C1 controls), a
// bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069: they
// make text display in another order than it is stored), or bytes that are
// not UTF-8. Such a value would print a fake line or drive a terminal that
// shows it. The error is a VALIDATION_ERROR on field that says what and
// where, never the value.
func checkText(field, v string) error {
	n := 0 // r is character n of v, from 1
	for i, r := range v {
		n++
		what := ""
		switch _, size := utf8.DecodeRuneInString(v[i:]); {
		case r == utf8.RuneError && size == 1:
			what = "a byte that is not UTF-8"
		case r == '\n' || r == '\r':
			what = "a line break"
		case unicode.IsControl(r):
			what = fmt.Sprintf("the control character U+%04X", r)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			what = fmt.Sprintf("the bidirectional control U+%04X", r)
		}
		if what != "" {
			return orgdb.Validation("%s has %s at character %d: it must be one line of printable text; nothing changed", field, what, n).
				WithDetails("field", field)
		}
	}
	return nil
}

// checkTexts applies checkText to field/value pairs.
func checkTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
