package orgdb_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
)

// The JSON fuzz targets assert what holds whatever the wire form of a type
// is: decoding never panics; what decodes re-encodes, decodes to the same
// value and encodes to the same bytes again; and input that does not decode
// is an error that leaves the destination as it was.

var jsonSeeds = []string{
	`null`, `""`, `"x"`, `[]`, `{}`, `0`, `true`, `"a@b.io"`, `["a@b.io"]`, `[" A@b.io ","a@B.io"]`, `"a@b.io, c@d.io"`,
	`[1]`, `[null]`, `["a,b"]`, `"admin"`, `"member"`, `"openai"`, `"OpenAI"`, `"pending"`, `"org"`,
	`"2026-11-28T10:00:05Z"`, `"2026-11-28T10:00:05.123456789+02:00"`, `"2026-11-28 10:00:05"`,
	`"0000-01-01T00:00:00+01:00"`, `"9999-12-31T23:59:59-01:00"`, `"0001-01-01T00:00:00Z"`, `"\u0061dmin"`, `"adm\u0000in"`, `[`, `"`,
}

func addJSONSeeds(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
}

// FuzzEmailListJSON decodes EmailList from arbitrary JSON: a list that
// decodes is normalized (trimmed, lower-case, non-empty, comma-free, no
// duplicates), agrees with its database form and survives re-encoding.
func FuzzEmailListJSON(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := orgdb.EmailList{"sentinel@x.io"}
		l := slices.Clone(before)
		if err := json.Unmarshal(b, &l); err != nil {
			if !slices.Equal(l, before) {
				t.Fatalf("Unmarshal(%q) failed (%v) but changed the list to %q", b, err, l)
			}
			return
		}
		for i, e := range l {
			if e == "" || e != strings.TrimSpace(e) || e != strings.ToLower(e) || strings.Contains(e, ",") || slices.Contains(l[:i], e) {
				t.Fatalf("Unmarshal(%q) = %q: item %q not normalized", b, l, e)
			}
		}
		if db := orgdb.ParseEmailList(l.String()); !slices.Equal(db, l) {
			t.Fatalf("Unmarshal(%q) = %q, whose database form reads back as %q", b, l, db)
		}
		out, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("Marshal(%q): %v", l, err)
		}
		var back orgdb.EmailList
		if err := json.Unmarshal(out, &back); err != nil || !slices.Equal(back, l) {
			t.Fatalf("%q → %q → %s → %q, %v", b, l, out, back, err)
		}
		if again, err := json.Marshal(back); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("encoding not stable: %s then %s, %v", out, again, err)
		}
	})
}

// FuzzTimeJSON decodes Time from arbitrary JSON: a decoded Time is UTC (or
// zero, from null), survives re-encoding, and can be written to the
// database.
func FuzzTimeJSON(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := orgdb.NewTime(time.Date(2026, 11, 28, 10, 0, 5, 0, time.UTC))
		tm := before
		if err := json.Unmarshal(b, &tm); err != nil {
			if tm != before {
				t.Fatalf("Unmarshal(%q) failed (%v) but changed the time to %v", b, err, tm)
			}
			return
		}
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Fatalf("Unmarshal(%q) = %v, not UTC", b, tm)
		}
		if _, err := tm.Value(); err != nil {
			t.Fatalf("Unmarshal(%q) = %v, which the database refuses: %v", b, tm, err)
		}
		out, err := json.Marshal(tm)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tm, err)
		}
		var back orgdb.Time
		if err := json.Unmarshal(out, &back); err != nil || !back.Equal(tm.Time) {
			t.Fatalf("%q → %v → %s → %v, %v", b, tm, out, back, err)
		}
		if again, err := json.Marshal(back); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("encoding not stable: %s then %s, %v", out, again, err)
		}
	})
}

// FuzzEnumJSON decodes each enum from arbitrary JSON: a JSON string decodes
// exactly when its Parse function accepts it, a decoded value is valid and
// survives re-encoding, and anything else leaves the value as it was.
func FuzzEnumJSON(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkEnumJSON(t, b, orgdb.UserRoles(), orgdb.ParseUserRole)
		checkEnumJSON(t, b, orgdb.IntegrationScopes(), orgdb.ParseIntegrationScope)
		checkEnumJSON(t, b, orgdb.Providers(), orgdb.ParseProvider)
		checkEnumJSON(t, b, orgdb.InviteStatuses(), orgdb.ParseInviteStatus)
	})
}

func checkEnumJSON[T ~string](t *testing.T, b []byte, all []T, parse func(string) (T, error)) {
	t.Helper()
	before := all[len(all)-1]
	v := before
	err := json.Unmarshal(b, &v)
	var s string
	isString := json.Unmarshal(b, &s) == nil && !bytes.Equal(bytes.TrimSpace(b), []byte("null"))
	if isString {
		if _, perr := parse(s); (perr == nil) != (err == nil) {
			t.Fatalf("%T: Unmarshal(%q): %v, but Parse(%q): %v", v, b, err, s, perr)
		}
	}
	if err != nil {
		if v != before {
			t.Fatalf("%T: Unmarshal(%q) failed (%v) but changed the value to %q", v, b, err, v)
		}
		return
	}
	if !slices.Contains(all, v) {
		t.Fatalf("%T: Unmarshal(%q) = %q, not one of %q", v, b, v, all)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%T: Marshal(%q): %v", v, v, err)
	}
	var back T
	if err := json.Unmarshal(out, &back); err != nil || back != v {
		t.Fatalf("%T: %q → %q → %s → %q, %v", v, b, v, out, back, err)
	}
}
