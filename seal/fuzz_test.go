package seal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/seal"
)

// cheapDerive stands in for PBKDF2 in FuzzParseKey: ParseKey with the real
// derivation costs about 0.3 s per passphrase, which would hold the fuzzer
// to a few executions per second. The derivation itself is the standard
// library's; what is fuzzed here is the parsing and validation around it.
func cheapDerive(p string, kdf seal.KDF) ([]byte, error) {
	sum := sha256.Sum256(append([]byte(p), kdf.Salt...))
	return sum[:], nil
}

var digits = regexp.MustCompile(`[0-9]+`)

// keyErrorShapes are the messages ParseKey can return, digits (lengths)
// blanked: every error must have one of these shapes, so no message can
// repeat the value it refused.
func keyErrorShapes(t testing.TB) map[string]bool {
	shapes := map[string]bool{}
	for _, s := range []string{"", "passphrase:short", "!!!", "AAAA"} {
		_, err := seal.ParseKeyWith("sealing key", s, cheapDerive)
		if err == nil {
			t.Fatalf("reference input %q accepted", s)
		}
		shapes[digits.ReplaceAllString(err.Error(), "N")] = true
	}
	return shapes
}

// FuzzParseKey checks what ParseKey accepts as ORGDB_ENCRYPTION_KEY: the
// base64 of exactly 32 bytes in any of the four alphabets/paddings, or
// "passphrase:" and at least 16 characters, surrounding space trimmed.
// Everything else is a bad_sealing_key ENCRYPTION_ERROR whose message never
// repeats the value. Passphrase inputs go through ParseKeyWith with a cheap
// derivation (see cheapDerive); every other input also goes through the
// real ParseKey, which must agree.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		"", "   ", "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "_-__-__-__-__-__-__-__-__-__-__-__-__-__-_",
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "AAAA", "passphrase:", "passphrase:0123456789abcde",
		"passphrase:0123456789abcdef", " passphrase:  correct horse battery staple  ", "Passphrase:0123456789abcdef",
		"passphrase:ünïcödé-ünïcödé", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "not a key at all",
	} {
		f.Add(s)
	}
	shapes := keyErrorShapes(f)
	f.Fuzz(func(t *testing.T, s string) {
		var derived []string
		k, err := seal.ParseKeyWith("sealing key", s, func(p string, kdf seal.KDF) ([]byte, error) {
			derived = append(derived, p)
			return cheapDerive(p, kdf)
		})
		trimmed := strings.TrimSpace(s)
		pass, isPass := strings.CutPrefix(trimmed, seal.PassphrasePrefix)
		if err != nil {
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeEncryption || e.Reason != seal.ReasonBadKey {
				t.Fatalf("ParseKey(%q): %v, want ENCRYPTION_ERROR %s", s, err, seal.ReasonBadKey)
			}
			if !k.IsZero() {
				t.Fatalf("ParseKey(%q) returned key %v with error %v", s, k, err)
			}
			if shape := digits.ReplaceAllString(err.Error(), "N"); !shapes[shape] {
				t.Fatalf("ParseKey(%q): unexpected message %q (it may repeat the value)", s, err)
			}
			if isPass && len(pass) >= 16 {
				t.Fatalf("ParseKey(%q): passphrase of %d bytes refused: %v", s, len(pass), err)
			}
		} else {
			// A passphrase key is derived with a database's salt first.
			if k.IsPassphrase() != isPass {
				t.Fatalf("ParseKey(%q): IsPassphrase = %v", s, k.IsPassphrase())
			}
			if isPass {
				if k.ID() != "" || len(derived) != 0 {
					t.Fatalf("ParseKey(%q) derived before it had a salt", s)
				}
				if _, err := k.Seal(orgdb.ProviderOpenAI, seal.NewSecret("x")); err == nil {
					t.Fatalf("ParseKey(%q): a passphrase key not derived sealed", s)
				}
				if k, err = k.Derive(seal.NewKDF()); err != nil {
					t.Fatal(err)
				}
			}
			if k.IsZero() || len(k.ID()) != 8 {
				t.Fatalf("ParseKey(%q) = %v, nil: want a key with an 8-hex-digit id", s, k)
			}
			if isPass && len(pass) < 16 {
				t.Fatalf("ParseKey(%q): passphrase of %d bytes accepted", s, len(pass))
			}
			sealed, err := k.Seal(orgdb.ProviderOpenAI, seal.NewSecret("x"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := k.Open(orgdb.ProviderOpenAI, sealed); err != nil || got.Reveal() != "x" {
				t.Fatalf("key from %q does not open what it sealed: %v", s, err)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v %s", k, k, k, k), trimmed) {
				t.Fatalf("key from %q prints its value", s)
			}
		}
		// The derivation runs exactly for a long enough passphrase, on the
		// passphrase as written (after trimming the whole value).
		switch {
		case isPass && len(pass) >= 16:
			if len(derived) != 1 || derived[0] != pass {
				t.Fatalf("ParseKey(%q) derived from %q, want [%q]", s, derived, pass)
			}
		case len(derived) != 0:
			t.Fatalf("ParseKey(%q) derived a key from %q", s, derived)
		}
		if !isPass {
			real, rerr := seal.ParseKey(s)
			if (rerr == nil) != (err == nil) || real.ID() != k.ID() || rerr != nil && rerr.Error() != err.Error() {
				t.Fatalf("ParseKey(%q) = %v, %v; ParseKeyWith = %v, %v", s, real, rerr, k, err)
			}
		}
	})
}

// FuzzOpen fuzzes Open with a fixed key and a handful of values it sealed:
// Open never panics, opens only a value exactly as sealed for the provider
// it was sealed for, and on any error returns the zero Secret and a message
// that contains neither a plaintext nor the key.
func FuzzOpen(f *testing.F) {
	keyBytes := bytes.Repeat([]byte{7}, seal.KeySize)
	key, err := seal.NewKey(keyBytes)
	if err != nil {
		f.Fatal(err)
	}
	other, err := seal.NewKey(bytes.Repeat([]byte{8}, seal.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	if key.ID() != "2781da93" {
		f.Fatalf("test key id %s, want 2781da93 (the values below were sealed with it)", key.ID())
	}
	// Values sealed once with key: Seal draws a random nonce, and every
	// fuzz worker must know the same set.
	known := map[string]struct {
		p     orgdb.Provider
		plain string
	}{}
	for _, v := range []struct{ p, plain, sealed string }{
		{"anthropic", "sk-ant-api03-SECRET-0123456789", "v1:2781da93:27NOyxFHXAO3UfNjNlBhyvdWd9ZIG6Qb4QkNGdlXQbNYI4MjbSvG-a47WNsnJ0IWPt1H2JHZZrmk6A"},
		{"anthropic", "", "v1:2781da93:2_cqsFj4laBlUUyzU28X_DKBoBXxhiCFehw7lg"},
		{"anthropic", "sk-anthropic", "v1:2781da93:0m2HGMmbrA2Y8mRNB7LPBTRFLRz9LM3n4eknC8zKsQ7D1-IREYanXA"},
		{"openai", "sk-ant-api03-SECRET-0123456789", "v1:2781da93:Q0_iJk9pL5_hgxtV2BXH_EhisGccPQHVfWCIpg8mE9j_YpQ7u2rBq0qeBO6E-2LET60-nU8qj827ng"},
		{"openai", "", "v1:2781da93:OFd3fjrUulQhssxCmA62tgzZ91Y8y5J67gHdbA"},
		{"openai", "sk-openai", "v1:2781da93:HEfiCNk1c69_qTF21LBzjjOmepLtYGh4-g3qFmCOfnYqek4VRg"},
		{"google", "sk-ant-api03-SECRET-0123456789", "v1:2781da93:WloD4Tn4HlgfCS74vuUfxk3Rxbx2OWuo92_Zw3kLQz_HEP2Us0GqQzZy0YEcj_egYiSSh7rcmNXp2Q"},
		{"google", "", "v1:2781da93:s-r2oGBWSC8BoV_PM0fgyftYHg8bu9aDHHut6Q"},
		{"google", "sk-google", "v1:2781da93:qxvquNlJyUoaFx5IK65vPIEV4RGBwhU3TmZVOb4bAbIoxie5-g"},
	} {
		known[v.sealed] = struct {
			p     orgdb.Provider
			plain string
		}{orgdb.Provider(v.p), v.plain}
		f.Add(v.p, v.sealed)
		o, err := other.Seal(orgdb.Provider(v.p), seal.NewSecret(v.plain))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.p, o)
	}
	f.Add("openai", "v1:"+key.ID()+":")
	f.Add("openai", "v2:"+key.ID()+":AAAA")
	f.Add("", "::")
	f.Fuzz(func(t *testing.T, provider, sealed string) {
		p := orgdb.Provider(provider)
		got, err := key.Open(p, sealed)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("Open(%q, %q) returned a secret with error %v", p, sealed, err)
			}
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeEncryption || e.Reason == "" {
				t.Fatalf("Open(%q, %q): %v, want an ENCRYPTION_ERROR with a reason", p, sealed, err)
			}
			// The message names the provider as given, so only secrets
			// that are not part of the input count as leaks.
			msg := fmt.Sprintf("%v %+v", err, err)
			for _, secret := range []string{plaintext, string(keyBytes), hex.EncodeToString(keyBytes), base64.StdEncoding.EncodeToString(keyBytes)} {
				if strings.Contains(msg, secret) && !strings.Contains(provider+sealed, secret) {
					t.Fatalf("Open(%q, %q): error leaks a secret: %s", p, sealed, msg)
				}
			}
			return
		}
		want, ok := known[sealed]
		if !ok || want.p != p {
			t.Fatalf("Open(%q, %q) = %d bytes, nil: it opened a value it did not seal", p, sealed, len(got.Reveal()))
		}
		if got.Reveal() != want.plain {
			t.Fatalf("Open(%q, %q) returned the wrong plaintext", p, sealed)
		}
	})
}
