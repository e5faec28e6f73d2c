package orgdb

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
)

// NormalizeEmail trims and lower-cases s and checks that it is a plain
// address (local@domain): a dot-atom local part of at most 64 characters
// and a domain as accepted by [NormalizeDomain]. Display names, quoted local
// parts, comments and non-ASCII addresses are refused with a validation
// error naming the input.
func NormalizeEmail(s string) (string, error) {
	e, ok := asciiLower(s)
	at := strings.LastIndexByte(e, '@')
	if !ok || at <= 0 || len(e) > 254 || !validLocalPart(e[:at]) {
		return "", invalidEmail(s)
	}
	// The domain exactly as written: NormalizeDomain trims, which would
	// let "a@ x.io" through with its space.
	if d, err := NormalizeDomain(e[at+1:]); err != nil || d != e[at+1:] {
		return "", invalidEmail(s)
	}
	return e, nil
}

func invalidEmail(s string) error {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return Validation("invalid email address %q", s).WithDetails("field", "email")
}

// EmailDomain returns the domain part of a normalized email address.
func EmailDomain(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}

// NormalizeDomain trims and lower-cases s and checks that it is a DNS name
// of at least two labels, each 1–63 characters of a–z, 0–9 and '-', not
// starting or ending with '-'.
func NormalizeDomain(s string) (string, error) {
	d, ok := asciiLower(s)
	ok = ok && len(d) <= 253 && strings.Contains(d, ".")
	for l := range strings.SplitSeq(d, ".") {
		ok = ok && validLabel(l)
	}
	if !ok {
		return "", Validation("invalid domain %q", s).WithDetails("field", "domain")
	}
	return d, nil
}

// asciiLower trims s and lower-cases it, and reports whether it is ASCII:
// strings.ToLower alone maps some non-ASCII letters to ASCII ones (the
// Kelvin sign U+212A to 'k'), which would let a non-ASCII address through.
func asciiLower(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validLocalPart accepts an RFC 5322 dot-atom in lower case.
func validLocalPart(l string) bool {
	if len(l) == 0 || len(l) > 64 || l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	return true
}

// EmailList is a list of email addresses stored comma-separated in one
// TEXT column (org_settings.allowed_emails). Parsing trims and lower-cases
// each item, drops empty items and removes duplicates, keeping the first
// occurrence's position. In JSON it is the comma-separated string the web
// client reads ("a@x.io,b@y.io"); an array is accepted on input. NULL and
// "" read as the empty list; the empty list writes NULL.
//
// Parsing does not validate addresses, so a list written by another tool
// still reads; [EmailList.Validate] does.
type EmailList []string

// ParseEmailList splits a comma-separated list and normalizes it.
func ParseEmailList(s string) EmailList {
	var l EmailList
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item != "" && !seen[item] {
			seen[item] = true
			l = append(l, item)
		}
	}
	return l
}

// NewEmailList normalizes items as [ParseEmailList] does.
func NewEmailList(items ...string) EmailList {
	return ParseEmailList(strings.Join(items, ","))
}

// Validate returns a validation error naming the first invalid address.
func (l EmailList) Validate() error {
	for _, e := range l {
		if _, err := NormalizeEmail(e); err != nil {
			return err
		}
	}
	return nil
}

// Contains reports whether the list holds email, compared after trimming
// and lower-casing both sides.
func (l EmailList) Contains(email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	for _, e := range l {
		if strings.ToLower(strings.TrimSpace(e)) == email {
			return true
		}
	}
	return false
}

// String returns the normalized comma-separated form stored in the
// database.
func (l EmailList) String() string {
	return strings.Join(NewEmailList(l...), ",")
}

// Scan reads a comma-separated list; NULL is the empty list.
func (l *EmailList) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*l = nil
	case string:
		*l = ParseEmailList(v)
	case []byte:
		*l = ParseEmailList(string(v))
	default:
		return fmt.Errorf("scan EmailList: unsupported type %T", src)
	}
	return nil
}

// Value writes the normalized comma-separated list, or NULL when empty.
func (l EmailList) Value() (driver.Value, error) {
	s := l.String()
	if s == "" {
		return nil, nil
	}
	return s, nil
}

// MarshalJSON writes the normalized comma-separated string the web client
// reads and sends ("a@x.io,b@y.io"), "" when empty. (A field of this type
// tagged omitempty is left out when the list is empty.)
func (l EmailList) MarshalJSON() ([]byte, error) {
	return json.Marshal(l.String())
}

// UnmarshalJSON reads the comma-separated string the web client sends, or a
// JSON array of strings (a newer client may send either), or null, and
// normalizes it as [ParseEmailList] does. Addresses are not validated here;
// [EmailList.Validate] does that.
func (l *EmailList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = ParseEmailList(s)
		return nil
	}
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		return Validation("invalid email list %s: want a comma-separated string or an array of strings", truncate(string(b), 80)).
			WithDetails("field", "allowedEmails")
	}
	*l = NewEmailList(items...)
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
