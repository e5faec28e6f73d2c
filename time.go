package orgdb

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TimeLayout is the one layout orgdb writes to TEXT timestamp columns:
// UTC, a space between date and time, fractional seconds only when non-zero.
// It sorts as text exactly like SQLite's datetime('now') ("2006-01-02
// 15:04:05"), so SQL comparisons such as expires_at > datetime('now') are
// correct. RFC 3339 ("2006-01-02T15:04:05Z") would not be: 'T' sorts after
// ' ', so such a value compares as later than every datetime('now') of the
// same day.
const TimeLayout = "2006-01-02 15:04:05.999999999"

// Time is a timestamp stored in a SQLite TEXT column. In the database it is
// written in [TimeLayout] (UTC) and read from any layout SQLite or common
// writers produce; in JSON it is RFC 3339. The zero Time is SQL NULL and
// JSON null.
type Time struct {
	time.Time
}

// NewTime returns t as a Time in UTC.
func NewTime(t time.Time) Time { return Time{t.UTC()} }

// ParseTime parses the text forms of a timestamp found in SQLite databases:
// "YYYY-MM-DD", or "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" with a space
// or 'T' between date and time, an optional fraction after the seconds
// ('.' and 1–9 digits), and an optional zone ("Z", "+HH:MM" or "-HH:MM",
// optionally after one space). A value without a zone is UTC, as in
// SQLite. Every field has its full width ("2026-11-28 09:05:00", never
// " 9:5", "T9:05" or a run of spaces). Anything else is a validation
// error; ParseTime never returns a zero time for bad input.
func ParseTime(s string) (Time, error) {
	if t, ok := parseCanonical(s); ok {
		return t, nil
	}
	if !fullWidth(s) { // time.Parse alone also takes " 9", "9" and ",5"
		return Time{}, invalidTime(s)
	}
	layout, ok := timeLayoutFor(s)
	if !ok {
		return Time{}, invalidTime(s)
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Time{}, invalidTime(s)
	}
	return Time{t.UTC()}, nil
}

func invalidTime(s string) error {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return Validation("invalid timestamp %q: want YYYY-MM-DD[ HH:MM[:SS[.fff]]][Z|±HH:MM]", s)
}

// parseCanonical reads the layout orgdb and datetime('now') write,
// "YYYY-MM-DD HH:MM:SS" with an optional fraction, without time.Parse: it
// is what nearly every row holds. Anything else reports false.
func parseCanonical(s string) (Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return Time{}, false
	}
	ns := 0
	if len(s) > 19 {
		frac := s[20:]
		if s[19] != '.' || len(frac) == 0 || len(frac) > 9 {
			return Time{}, false
		}
		if ns = num(20, len(frac)); ns < 0 {
			return Time{}, false
		}
		for range 9 - len(frac) {
			ns *= 10
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d { // February 30th and the like
		return Time{}, false
	}
	return Time{t}, true
}

// fullWidth reports whether s has the shape ParseTime documents, every
// field at its full width: YYYY-MM-DD, optionally followed by a space or
// 'T', HH:MM, optionally :SS and then optionally '.' and 1–9 digits, and
// then optionally a zone ("Z" or ±HH:MM), itself optionally after one
// space. It checks the shape only; time.Parse checks the ranges.
func fullWidth(s string) bool {
	digits := func(i, n int) bool {
		if i+n > len(s) {
			return false
		}
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if !digits(0, 4) || len(s) < 10 || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) {
		return false
	}
	if len(s) == 10 {
		return true
	}
	if len(s) < 16 || s[10] != ' ' && s[10] != 'T' || !digits(11, 2) || s[13] != ':' || !digits(14, 2) {
		return false
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		if !digits(i+1, 2) {
			return false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if n := j - i - 1; n < 1 || n > 9 {
				return false
			}
			i = j
		}
	}
	if i < len(s) && s[i] == ' ' {
		i++
		if i == len(s) {
			return false
		}
	}
	zone := s[i:]
	return zone == "" || zone == "Z" ||
		len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && digits(i+1, 2) && zone[3] == ':' && digits(i+4, 2)
}

// layouts holds every layout ParseTime accepts, indexed by separator
// ('T' or not), clock (with seconds or not) and zone (none, "Z07:00",
// " Z07:00"), so that choosing one allocates nothing.
var layouts = func() (l [2][2][3]string) {
	for si, sep := range []string{" ", "T"} {
		for ci, clock := range []string{"15:04", "15:04:05"} {
			for zi, zone := range []string{"", "Z07:00", " Z07:00"} {
				l[si][ci][zi] = "2006-01-02" + sep + clock + zone
			}
		}
	}
	return l
}()

// timeLayoutFor picks the single Go layout that can parse s, so parsing
// costs one time.Parse call and no failed attempts.
func timeLayoutFor(s string) (string, bool) {
	const date = "2006-01-02"
	if len(s) == len(date) {
		return date, true
	}
	if len(s) < len(date)+6 { // date, separator, HH:MM
		return "", false
	}
	si := 0
	switch s[len(date)] {
	case ' ':
	case 'T':
		si = 1
	default:
		return "", false
	}
	rest := s[len(date)+1:]
	// The zone starts at the first 'Z', '+', '-' or ' ' after HH:MM.
	clock, zi := len(rest), 0
	if i := strings.IndexAny(rest[5:], "Z+- "); i >= 0 {
		clock, zi = 5+i, 1
		if rest[5+i] == ' ' {
			zi = 2
		}
	}
	ci := 1 // time.Parse accepts a fraction after the seconds
	if clock == 5 {
		ci = 0
	}
	return layouts[si][ci][zi], true
}

// Scan reads a timestamp column: NULL is the zero Time, text is parsed with
// [ParseTime], and a time.Time (from a column declared DATETIME) is taken
// as is.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
		return nil
	case string:
		p, err := ParseTime(v)
		if err != nil {
			return fmt.Errorf("scan Time: %w", err)
		}
		*t = p
		return nil
	case []byte:
		return t.Scan(string(v))
	case time.Time:
		*t = NewTime(v)
		return nil
	default:
		return fmt.Errorf("scan Time: unsupported type %T", src)
	}
}

// Value writes the timestamp in [TimeLayout]; the zero Time is NULL. Years
// outside 0000–9999 are refused because their text would not sort.
func (t Time) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, Validation("timestamp %s out of range: year must be 0000–9999", u.Format(time.RFC3339))
	}
	return u.Format(TimeLayout), nil
}

// MarshalJSON writes RFC 3339 in UTC, or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// UnmarshalJSON reads RFC 3339 or null. An instant whose UTC year is
// outside 0000–9999 is a validation error.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	var s string // a JSON string, escapes decoded
	if err := json.Unmarshal(b, &s); err != nil {
		return Validation("invalid timestamp %s: want an RFC 3339 string", b)
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Validation("invalid timestamp %s: want RFC 3339", b)
	}
	// An offset can move the instant out of 0000–9999 in UTC, which neither
	// the database (see Value) nor RFC 3339 can write.
	if y := p.UTC().Year(); y < 0 || y > 9999 {
		return Validation("timestamp %s out of range: in UTC the year must be 0000–9999", b)
	}
	*t = NewTime(p)
	return nil
}
