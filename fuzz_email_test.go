package orgdb_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
)

// asciiPrintable reports whether s is all printable ASCII (no space, no
// control character).
func asciiPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// wantValidation fails unless err is a VALIDATION_ERROR naming field.
func wantValidation(t *testing.T, err error, field string) {
	t.Helper()
	var e *orgdb.Error
	if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != field {
		t.Fatalf("err = %#v, want a VALIDATION_ERROR on field %q", err, field)
	}
}

var emailSeeds = []string{
	"a@b.io", " Alice@Example.COM ", "a.b+c@x-y.example.org", "a@b", "@b.io", "a@", "a@@b.io", "a@b@c.io",
	"\"a b\"@x.io", "Alice <a@x.io>", "a..b@x.io", ".a@x.io", "a.@x.io", "a@-x.io", "a@x-.io", "a@x..io",
	"a@ x.io", "a@x.io\u00a0", "a@\u00a0x.io", "\u212a@x.io", "ünï@x.io", "a@exämple.com", "a@x.io,b@y.io",
	"a@" + strings.Repeat("a", 63) + ".io", "a@" + strings.Repeat("a", 64) + ".io", strings.Repeat("a", 65) + "@x.io",
}

// FuzzNormalizeEmail checks NormalizeEmail: an accepted address is the
// input trimmed and lower-cased, printable ASCII without spaces or commas
// (so it is one item of an EmailList), at most 254 bytes, normalizes to
// itself, and its domain is a domain NormalizeDomain accepts unchanged;
// anything else is a VALIDATION_ERROR on field "email" and "".
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := orgdb.NormalizeEmail(s)
		if err != nil {
			if e != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with error %v", s, e, err)
			}
			wantValidation(t, err, "email")
			if len(err.Error()) > 400 { // 80 bytes of input at most, each at most 4 when quoted
				t.Fatalf("NormalizeEmail: error of %d bytes for input of %d", len(err.Error()), len(s))
			}
			return
		}
		trimmed := strings.TrimSpace(s)
		if !asciiPrintable(trimmed) || e != strings.ToLower(trimmed) || len(e) > 254 || strings.Contains(e, ",") {
			t.Fatalf("NormalizeEmail(%q) = %q: want the ASCII input trimmed and lower-cased, comma-free, at most 254 bytes", s, e)
		}
		if again, err := orgdb.NormalizeEmail(e); err != nil || again != e {
			t.Fatalf("NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q, %v", s, e, e, again, err)
		}
		local, domain, _ := strings.Cut(e, "@")
		if local == "" || len(local) > 64 || domain != orgdb.EmailDomain(e) {
			t.Fatalf("NormalizeEmail(%q) = %q: local part %q, domain %q", s, e, local, domain)
		}
		if d, err := orgdb.NormalizeDomain(domain); err != nil || d != domain {
			t.Fatalf("NormalizeEmail(%q) = %q, whose domain %q normalizes to %q, %v", s, e, domain, d, err)
		}
		if l := orgdb.ParseEmailList(e); !slices.Equal(l, orgdb.EmailList{e}) || !l.Contains(s) || l.Validate() != nil {
			t.Fatalf("NormalizeEmail(%q) = %q, which as an EmailList is %q", s, e, l)
		}
	})
}

// FuzzNormalizeDomain checks NormalizeDomain: an accepted domain is the
// ASCII input trimmed and lower-cased, at most 253 bytes, of at least two
// labels of 1–63 characters of a–z, 0–9 and '-' (not at either end), and
// normalizes to itself; "x@" and the domain is then a valid address (when
// it fits in 254 bytes).
// Anything else is a VALIDATION_ERROR on field "domain" and "".
func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s)
		f.Add(orgdb.EmailDomain(s))
	}
	for _, s := range []string{"", ".", "x.", ".x", "acme.com", " ACME.com\n", "xn--bcher-kva.example", "a_b.io", "\u212a.io", "1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := orgdb.NormalizeDomain(s)
		if err != nil {
			if d != "" {
				t.Fatalf("NormalizeDomain(%q) = %q with error %v", s, d, err)
			}
			wantValidation(t, err, "domain")
			return
		}
		trimmed := strings.TrimSpace(s)
		if !asciiPrintable(trimmed) || d != strings.ToLower(trimmed) || len(d) > 253 {
			t.Fatalf("NormalizeDomain(%q) = %q: want the ASCII input trimmed and lower-cased, at most 253 bytes", s, d)
		}
		labels := strings.Split(d, ".")
		if len(labels) < 2 {
			t.Fatalf("NormalizeDomain(%q) = %q: fewer than two labels", s, d)
		}
		for _, l := range labels {
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				t.Fatalf("NormalizeDomain(%q) = %q: bad label %q", s, d, l)
			}
		}
		if again, err := orgdb.NormalizeDomain(d); err != nil || again != d {
			t.Fatalf("NormalizeDomain(%q) = %q, but NormalizeDomain(%q) = %q, %v", s, d, d, again, err)
		}
		if e, err := orgdb.NormalizeEmail("x@" + d); len(d) <= 252 && (err != nil || e != "x@"+d) {
			t.Fatalf("domain %q accepted, address x@%s: %q, %v", d, d, e, err)
		}
	})
}
