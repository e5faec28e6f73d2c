package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// providerKeyFormats are keys shaped like the providers' real ones (and
// base64-ish tokens): SetOrgAPIKey stores each, trimmed, as it is.
var providerKeyFormats = []string{
	"sk-proj-Ab3dEf_gh-IJ4kLmN0pQ-rsTuv_WXyz0123456789abcdEFGH",
	"sk-ant-api03-AbCdEf0123_-GhIjKl4567-MnOpQr89_StUvWxYz-AAAA",
	"sk-1234567890abcdefABCDEF",
	"AIzaSyA-1b2C3d4E5f6G7h8I9j0K_lMnOpQrStU",
	"dGhpcyBpcyBub3QgYSByZWFsIGtleQ+/ab==",
	"key_with-every+allowed/char=~.:!@#$%^&*()[]{}",
}

// The store refuses a key with whitespace or control characters inside it
// (two lines piped in, a pasted tab, NUL, a zero-width space, bytes that
// are not UTF-8): VALIDATION_ERROR on the key field, no part of the key in
// the message, and nothing stored, not even over the key already set.
func TestSetOrgAPIKeyRefusesKeyWithInnerSpaceOrControl(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithSealingKey(newKey(t)))
	admin := signup(t, st, "ada@acme.test")
	must(t, second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret("sk-existing"))))
	before := dbtest.Snapshot(t, st.DB())

	const head, tail = "sk-live-SECRET", "extra-PART"
	for name, sep := range map[string]string{
		"two lines":      "\n",
		"CRLF":           "\r\n",
		"CR":             "\r",
		"space":          " ",
		"tab":            "\t",
		"NUL":            "\x00",
		"DEL":            "\x7f",
		"escape":         "\x1b[0m",
		"no-break space": "\u00a0",
		"zero width":     "\u200b",
		"BOM":            "\ufeff",
		"line separator": "\u2028",
		"not UTF-8":      "\xff",
	} {
		t.Run(name, func(t *testing.T) {
			key := "  " + head + sep + tail + "\n"
			_, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret(key))
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != "key" || !strings.Contains(e.Message, "nothing stored") {
				t.Fatalf("err = %v, want VALIDATION_ERROR on the key field saying nothing was stored", err)
			}
			body, jerr := json.Marshal(e)
			if jerr != nil {
				t.Fatal(jerr)
			}
			for _, part := range []string{"SECRET", "extra", "PART"} {
				if strings.Contains(err.Error(), part) || strings.Contains(string(body), part) {
					t.Errorf("the error repeats part of the key (%q): %v / %s", part, err, body)
				}
			}
			if !strings.Contains(e.Message, "character 15") {
				t.Errorf("message %q does not say where (character 15)", e.Message)
			}
		})
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("a refused key changed the database")
	}
	if got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI); err != nil || got.Reveal() != "sk-existing" {
		t.Errorf("OpenOrgAPIKey = %v, %v; want the key set before", got, err)
	}
}

// Real provider key formats pass, trimmed of the newline a pipe adds, and
// open as they were given.
func TestSetOrgAPIKeyAcceptsProviderFormats(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithSealingKey(newKey(t)))
	admin := signup(t, st, "ada@acme.test")
	for _, key := range providerKeyFormats {
		if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret(" "+key+"\r\n")); err != nil {
			t.Errorf("SetOrgAPIKey(%q): %v", key, err)
			continue
		}
		if got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderAnthropic); err != nil || got.Reveal() != key {
			t.Errorf("OpenOrgAPIKey = %q, %v; want %q", got.Reveal(), err, key)
		}
	}
}

// FuzzSetOrgAPIKey stores arbitrary input as a key. It is stored (and
// opens) as the input without its surrounding whitespace exactly when that
// is 1–4096 bytes of UTF-8 without whitespace, control or format
// characters; else it is a VALIDATION_ERROR on the key field that changes
// nothing.
func FuzzSetOrgAPIKey(f *testing.F) {
	for _, s := range providerKeyFormats {
		f.Add(s)
	}
	for _, s := range []string{"", " \n", "sk-a\nsk-b\n", "sk a", "sk\x00", "sk\u200bx", "\xffsk", strings.Repeat("k", 4097)} {
		f.Add(s)
	}
	k, err := seal.ParseKey(seal.GenerateKey())
	if err != nil {
		f.Fatal(err)
	}
	st := dbtest.New(f, store.WithSealingKey(k))
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"}) // the first user is an admin
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := strings.TrimSpace(s)
		valid := plain != "" && len(plain) <= 4096 && utf8.ValidString(plain) &&
			!strings.ContainsFunc(plain, func(r rune) bool {
				return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
			})
		before := dbtest.Snapshot(t, st.DB())
		_, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderGoogle, seal.NewSecret(s))
		if valid {
			if err != nil {
				t.Fatalf("SetOrgAPIKey(%q): %v", s, err)
			}
			if got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderGoogle); err != nil || got.Reveal() != plain {
				t.Fatalf("OpenOrgAPIKey = %q, %v; want %q", got.Reveal(), err, plain)
			}
			return
		}
		var e *orgdb.Error
		if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != "key" {
			t.Fatalf("SetOrgAPIKey(%q): %v, want VALIDATION_ERROR on the key field", s, err)
		}
		if dbtest.Snapshot(t, st.DB()) != before {
			t.Fatalf("SetOrgAPIKey(%q) was refused but changed the database", s)
		}
	})
}
