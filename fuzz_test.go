package orgdb_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
)

// FuzzParseTime checks that ParseTime never panics, never returns a zero
// time without an error, and that what it accepts survives the canonical
// database form: written with Value, read back to the same instant, and
// written again to the same text.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-28", "2026-11-28 10:00", "2026-11-28 10:00:05", "2026-11-28 10:00:05.123456789",
		"2026-11-28T10:00:05Z", "2026-11-28T12:00:05+02:00", "2026-11-28 03:00:05.5-07:00",
		"2026-11-28 10:00:05 +00:00", "0000-01-01 00:00:00", "9999-12-31T23:59:59.999999999Z", "garbage",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The fast path for the canonical layout agrees with time.Parse on
		// fixed-width input. (time.Parse also takes a run of spaces and a
		// one-digit hour, which ParseTime refuses: its layouts are fixed
		// width.)
		if std, err := time.Parse("2006-01-02 15:04:05", s); err == nil && fixedWidth(s) && !strings.ContainsAny(s[19:], "Z+- ,") {
			if fast, err := orgdb.ParseTime(s); err != nil || !fast.Equal(std) {
				t.Fatalf("ParseTime(%q) = %v, %v; time.Parse says %v", s, fast, err, std)
			}
		}
		tm, err := orgdb.ParseTime(s)
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

// fixedWidth reports whether s starts with "DDDD-DD-DD DD:DD:DD", D a
// digit: the canonical layout, every field at its full width.
func fixedWidth(s string) bool {
	const shape = "0000-00-00 00:00:00"
	if len(s) < len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == '0' && (s[i] < '0' || s[i] > '9') || shape[i] != '0' && s[i] != shape[i] {
			return false
		}
	}
	return true
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
