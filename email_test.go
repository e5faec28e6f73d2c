package orgdb_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"bob@acme.test":             "bob@acme.test",
		"  Bob.Smith@ACME.Test\t":   "bob.smith@acme.test",
		"o'brien+tag@mail.acme.io":  "o'brien+tag@mail.acme.io",
		"x@xn--bcher-kva.example":   "x@xn--bcher-kva.example",
		"a_b-c@sub-domain.acme.com": "a_b-c@sub-domain.acme.com",
	} {
		if got, err := orgdb.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"", "bob", "@acme.test", "bob@", "bob@acme", "bob@@acme.test", "bob@acme..test", "bob@-acme.test",
		"bob@acme-.test", ".bob@acme.test", "bob.@acme.test", "bo..b@acme.test", "Bob <bob@acme.test>",
		`"bob"@acme.test`, "bob smith@acme.test", "bob@acme.test,eve@acme.test", "bób@acme.test",
		"bob@acme.test'; DROP TABLE users;--", "x'; DROP TABLE invites; --", "bob@acme_corp.test",
		strings.Repeat("a", 65) + "@acme.test",
	} {
		got, err := orgdb.NormalizeEmail(bad)
		if !errors.Is(err, orgdb.ErrValidation) || got != "" {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want a validation error", bad, got, err)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	if d, err := orgdb.NormalizeDomain(" ACME.com "); err != nil || d != "acme.com" {
		t.Errorf("NormalizeDomain = %q, %v", d, err)
	}
	for _, bad := range []string{"", "acme", ".acme.com", "acme.com.", "@acme.com", "acme .com", "*.acme.com"} {
		if _, err := orgdb.NormalizeDomain(bad); !errors.Is(err, orgdb.ErrValidation) {
			t.Errorf("NormalizeDomain(%q) accepted", bad)
		}
	}
	if got := orgdb.EmailDomain("bob@acme.test"); got != "acme.test" {
		t.Errorf("EmailDomain = %q", got)
	}
}

func TestEmailList(t *testing.T) {
	l := orgdb.ParseEmailList(" Bob@acme.test, ,eve@acme.test,BOB@ACME.TEST ,, carol@x.io ")
	want := orgdb.EmailList{"bob@acme.test", "eve@acme.test", "carol@x.io"}
	if !slices.Equal(l, want) {
		t.Fatalf("ParseEmailList = %q", l)
	}
	if !l.Contains(" EVE@acme.test") || l.Contains("mallory@acme.test") {
		t.Error("Contains")
	}
	if got := orgdb.NewEmailList("A@b.io", "a@b.io", "c@d.io,e@f.io"); !slices.Equal(got, orgdb.EmailList{"a@b.io", "c@d.io", "e@f.io"}) {
		t.Errorf("NewEmailList = %q", got)
	}
	if err := l.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := orgdb.NewEmailList("ok@acme.test", "not-an-email").Validate(); !errors.Is(err, orgdb.ErrValidation) ||
		!strings.Contains(err.Error(), "not-an-email") {
		t.Errorf("Validate of a bad entry: %v", err)
	}

	// Database form.
	if v, err := l.Value(); err != nil || v != "bob@acme.test,eve@acme.test,carol@x.io" {
		t.Errorf("Value = %#v, %v", v, err)
	}
	if v, err := (orgdb.EmailList{" X@Y.io ", "x@y.io"}).Value(); err != nil || v != "x@y.io" {
		t.Errorf("Value normalizes: %#v, %v", v, err)
	}
	for _, empty := range []orgdb.EmailList{nil, {}, {" ", ""}} {
		if v, err := empty.Value(); err != nil || v != nil {
			t.Errorf("Value(%q) = %#v, want NULL", empty, v)
		}
	}
	var s orgdb.EmailList
	if err := s.Scan(nil); err != nil || len(s) != 0 {
		t.Errorf("Scan(nil) = %q, %v", s, err)
	}
	if err := s.Scan([]byte("a@b.io, C@D.io")); err != nil || !slices.Equal(s, orgdb.EmailList{"a@b.io", "c@d.io"}) {
		t.Errorf("Scan = %q, %v", s, err)
	}
	if err := s.Scan(int64(3)); err == nil {
		t.Error("Scan(int) accepted")
	}

	// JSON form: the comma-separated string, "" when empty.
	for _, tt := range []struct {
		in   orgdb.EmailList
		want string
	}{{nil, `""`}, {orgdb.EmailList{}, `""`}, {orgdb.EmailList{" ", ""}, `""`}, {orgdb.EmailList{" X@Y.io", "x@y.io"}, `"x@y.io"`},
		{l, `"bob@acme.test,eve@acme.test,carol@x.io"`}} {
		b, err := json.Marshal(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%q) = %s, %v", tt.in, b, err)
		}
	}
	// Input: the string, an array or null; anything else is a validation
	// error naming the field.
	for in, want := range map[string]orgdb.EmailList{
		`" A@b.io, a@b.io,,c@d.io "`:       {"a@b.io", "c@d.io"},
		`[" A@b.io","a@b.io","","c@d.io"]`: {"a@b.io", "c@d.io"},
		`""`:                               nil,
		`[]`:                               nil,
		`null`:                             nil,
	} {
		back := orgdb.EmailList{"stale@x.io"}
		if err := json.Unmarshal([]byte(in), &back); err != nil || !slices.Equal(back, want) {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", in, back, err, want)
		}
	}
	for _, bad := range []string{`3`, `{"a":"b"}`, `[1,2]`, `true`} {
		var back orgdb.EmailList
		err := json.Unmarshal([]byte(bad), &back)
		var e *orgdb.Error
		if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != "allowedEmails" {
			t.Errorf("Unmarshal(%s) = %v, want a VALIDATION_ERROR on allowedEmails", bad, err)
		}
	}
}

// Validating an address that is already normalized allocates nothing:
// sign-up and invites validate on every call.
func TestNormalizeEmailAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { orgdb.NormalizeEmail("bob.smith@mail.acme.test") }); n != 0 {
		t.Errorf("NormalizeEmail: %v allocations", n)
	}
}
