package orgdb_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/agentops/orgdb"
)

func TestParseTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-28", utc(2026, 11, 28, 0, 0, 0, 0)},
		{"2026-11-28 10:00", utc(2026, 11, 28, 10, 0, 0, 0)},
		{"2026-11-28T10:00", utc(2026, 11, 28, 10, 0, 0, 0)},
		{"2026-11-28 10:00:05", utc(2026, 11, 28, 10, 0, 5, 0)},         // datetime('now')
		{"2026-11-28 10:00:05.123", utc(2026, 11, 28, 10, 0, 5, 123e6)}, // strftime('%f')
		{"2026-11-28 10:00:05.123456789", utc(2026, 11, 28, 10, 0, 5, 123456789)},
		{"2026-11-28T10:00:05Z", utc(2026, 11, 28, 10, 0, 5, 0)},          // RFC 3339
		{"2026-11-28T10:00:05.000Z", utc(2026, 11, 28, 10, 0, 5, 0)},      // JavaScript toISOString
		{"2026-11-28T12:00:05+02:00", utc(2026, 11, 28, 10, 0, 5, 0)},     // offset
		{"2026-11-28 03:00:05.5-07:00", utc(2026, 11, 28, 10, 0, 5, 5e8)}, // go-sqlite3's time.Time binding
		{"2026-11-28 10:00:05 +00:00", utc(2026, 11, 28, 10, 0, 5, 0)},    // space before zone, as SQLite allows
		{"2026-11-28 10:00Z", utc(2026, 11, 28, 10, 0, 0, 0)},             // HH:MM with zone
		{"2026-11-28T23:30:00-01:00", utc(2026, 11, 29, 0, 30, 0, 0)},     // crosses the day
		{"0001-01-01 00:00:01", utc(1, 1, 1, 0, 0, 1, 0)},
	}
	for _, tt := range tests {
		got, err := orgdb.ParseTime(tt.in)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "now", "2026", "2026-11", "2026-11-28 ", "2026-11-28X10:00:00", "2026-13-01", "2026-02-30 10:00:00",
		"2026-11-28 25:00:00", "2026-11-28 10:00:00 garbage", "28/11/2026", "1764324000", "2026-11-28 10:0",
		"2026-11-28 10:00:00+0200", "2026-11-28 10:00:00.", "yesterday at noon",
		// Not full width, though time.Parse takes them.
		"0000-01-01       0:00:00", "2026-11-28T1:00:00Z", "2026-11-28T10:00:05  +02:00", "2026-11-28T10:00:05,5Z",
		"2026-11-28 10:00:05.1234567890", "2026-11-28 10:00:05 ", "2026-11-28T10:00:05+02:00 ",
	} {
		got, err := orgdb.ParseTime(bad)
		if err == nil || !errors.Is(err, orgdb.ErrValidation) {
			t.Errorf("ParseTime(%q) = %v, %v; want a validation error", bad, got, err)
		}
		if !got.IsZero() {
			t.Errorf("ParseTime(%q) returned a non-zero time with its error", bad)
		}
	}
}

func TestTimeValue(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	tests := []struct {
		in   time.Time
		want any
	}{
		{time.Date(2026, 11, 28, 10, 0, 5, 0, time.UTC), "2026-11-28 10:00:05"},
		{time.Date(2026, 11, 28, 10, 0, 5, 120e6, time.UTC), "2026-11-28 10:00:05.12"},
		{time.Date(2026, 11, 28, 2, 0, 5, 1, la), "2026-11-28 10:00:05.000000001"},
		{time.Time{}, nil},
	}
	for _, tt := range tests {
		got, err := orgdb.NewTime(tt.in).Value()
		if err != nil || got != tt.want {
			t.Errorf("Value(%v) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
	if _, err := orgdb.NewTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)).Value(); err == nil {
		t.Error("year 10000 written")
	}
	if _, err := orgdb.NewTime(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)).Value(); err == nil {
		t.Error("year -1 written")
	}
}

func TestTimeScan(t *testing.T) {
	var tm orgdb.Time
	if err := tm.Scan("2026-11-28T10:00:05Z"); err != nil || !tm.Equal(time.Date(2026, 11, 28, 10, 0, 5, 0, time.UTC)) {
		t.Errorf("Scan(text) = %v, %v", tm, err)
	}
	if err := tm.Scan(nil); err != nil || !tm.IsZero() {
		t.Errorf("Scan(nil) = %v, %v", tm, err)
	}
	if err := tm.Scan([]byte("2026-11-28 10:00:05")); err != nil || tm.Hour() != 10 {
		t.Errorf("Scan([]byte) = %v, %v", tm, err)
	}
	if err := tm.Scan(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))); err != nil || tm.Location() != time.UTC || tm.Year() != 2025 {
		t.Errorf("Scan(time.Time) = %v, %v", tm, err)
	}
	for _, bad := range []any{"not a time", int64(1764324000), 1.5} {
		tm = orgdb.NewTime(time.Now())
		if err := tm.Scan(bad); err == nil {
			t.Errorf("Scan(%#v) accepted: %v", bad, tm)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	type body struct {
		At   orgdb.Time  `json:"at"`
		Zero orgdb.Time  `json:"zero"`
		Ptr  *orgdb.Time `json:"ptr"`
	}
	at := orgdb.NewTime(time.Date(2026, 11, 28, 10, 0, 5, 5e8, time.UTC))
	b, err := json.Marshal(body{At: at})
	if err != nil || string(b) != `{"at":"2026-11-28T10:00:05.5Z","zero":null,"ptr":null}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back body
	if err := json.Unmarshal([]byte(`{"at":"2026-11-28T12:00:05.5+02:00","zero":null,"ptr":"2026-01-01T00:00:00Z"}`), &back); err != nil {
		t.Fatal(err)
	}
	if !back.At.Equal(at.Time) || back.At.Location() != time.UTC || !back.Zero.IsZero() || back.Ptr == nil || back.Ptr.Year() != 2026 {
		t.Errorf("Unmarshal = %+v", back)
	}
	for _, bad := range []string{`{"at":"2026-11-28 10:00:05"}`, `{"at":1764324000}`, `{"at":"tomorrow"}`,
		// In range as written, out of 0000–9999 in UTC (found by FuzzTimeJSON).
		`{"at":"0000-01-01T00:00:00+01:00"}`, `{"at":"9999-12-31T23:59:59-01:00"}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	// A JSON string is decoded before it is parsed: escapes are allowed.
	if err := json.Unmarshal([]byte(`{"at":"2026-11-28T10:00:05.5\u005a"}`), &back); err != nil || !back.At.Equal(at.Time) {
		t.Errorf("escaped RFC 3339: %v, %v", back.At, err)
	}
}

// Reading a timestamp allocates nothing: every row of every list reads
// two or three.
func TestParseTimeAllocs(t *testing.T) {
	for _, s := range []string{"2026-11-28 10:00:05", "2026-11-28 10:00:05.123456", "2026-11-28T10:00:05Z"} {
		if n := testing.AllocsPerRun(100, func() { orgdb.ParseTime(s) }); n != 0 {
			t.Errorf("ParseTime(%q): %v allocations", s, n)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		orgdb.ParseTime("2026-11-28 10:00:05.123456789")
	}
}
