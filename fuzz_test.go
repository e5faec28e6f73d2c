package orgdb_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
)

// timeGrammar is ParseTime's documented input, every field at full width:
// date; then optionally separator, HH:MM, optionally :SS and a fraction;
// then optionally a zone after at most one space.
var timeGrammar = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:([ T])[0-9]{2}:[0-9]{2}(:[0-9]{2}(?:\.[0-9]{1,9})?)?( ?)(Z|[+-][0-9]{2}:[0-9]{2})?)?$`)

// FuzzParseTime checks that ParseTime accepts exactly what its doc says:
// input of timeGrammar's shape whose fields are in range (time.Parse, on
// the layout of that shape, is the oracle for ranges and for the instant).
// It never panics, never returns a zero time without an error, and what it
// accepts survives the canonical database form: written with Value, read
// back to the same instant, and written again to the same text.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-28", "2026-11-28 10:00", "2026-11-28 10:00:05", "2026-11-28 10:00:05.123456789",
		"2026-11-28T10:00:05Z", "2026-11-28T12:00:05+02:00", "2026-11-28 03:00:05.5-07:00",
		"2026-11-28 10:00:05 +00:00", "0000-01-01 00:00:00", "9999-12-31T23:59:59.999999999Z", "garbage",
		"2026-11-28T1:00:00Z", "2026-11-28T10:00:05  +02:00", "2026-11-28T10:00:05,5Z", "2026-02-29", "2024-02-29 10:00 Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := orgdb.ParseTime(s)
		// The oracle: the grammar for the shape, time.Parse for the rest.
		wantOK := false
		if m := timeGrammar.FindStringSubmatch(s); m != nil {
			layout := "2006-01-02"
			if m[1] != "" {
				layout += m[1] + "15:04"
				if m[2] != "" {
					layout += ":05" // time.Parse takes the fraction after it
				}
				if m[4] != "" {
					layout += m[3] + "Z07:00"
				}
			}
			std, perr := time.Parse(layout, s)
			if wantOK = perr == nil; wantOK && err == nil && !tm.Equal(std) {
				t.Fatalf("ParseTime(%q) = %v; time.Parse(%q) says %v", s, tm, layout, std)
			}
		}
		if (err == nil) != wantOK {
			t.Fatalf("ParseTime(%q) = %v, %v; want accepted: %v", s, tm, err, wantOK)
		}
		if err != nil {
			if !tm.IsZero() {
				t.Fatalf("ParseTime(%q) returned %v with error %v", s, tm, err)
			}
			return
		}
		v, err := tm.Value()
		if err != nil {
			// Only offsets that move the instant out of 0000–9999.
			if y := tm.Year(); y >= 0 && y <= 9999 {
				t.Fatalf("Value of %v: %v", tm, err)
			}
			return
		}
		if v == nil {
			return // the zero instant itself
		}
		text := v.(string)
		back, err := orgdb.ParseTime(text)
		if err != nil || !back.Equal(tm.Time) {
			t.Fatalf("%q → %q → %v, %v", s, text, back, err)
		}
		if again, _ := back.Value(); again != text {
			t.Fatalf("canonical form not stable: %q then %q", text, again)
		}
	})
}

// FuzzParseEmailList checks that parsing is idempotent through the
// database form and that every item is trimmed, lower-case, non-empty,
// comma-free and unique.
func FuzzParseEmailList(f *testing.F) {
	for _, s := range []string{
		"", "a@b.io", " A@b.io , a@B.io,,c@d.io ", ",,,", "x,y,z", "Ünïcode@exämple.com, İ@x.io",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := orgdb.ParseEmailList(s)
		for i, e := range l {
			if e == "" || e != strings.TrimSpace(e) || e != strings.ToLower(e) || strings.Contains(e, ",") {
				t.Fatalf("item %q of %q not normalized", e, s)
			}
			if slices.Contains(l[:i], e) {
				t.Fatalf("duplicate %q in %q", e, l)
			}
		}
		v, err := l.Value()
		if err != nil {
			t.Fatal(err)
		}
		var back orgdb.EmailList
		if err := back.Scan(v); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back, l) && !(len(back) == 0 && len(l) == 0) {
			t.Fatalf("%q → %#v → %q, want %q", s, v, back, l)
		}
	})
}
