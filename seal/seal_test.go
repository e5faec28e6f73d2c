package seal_test

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/seal"
)

const plaintext = "sk-ant-api03-SECRET-0123456789"

func mustKey(t *testing.T, s string) seal.Key {
	t.Helper()
	k, err := seal.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	var e *orgdb.Error
	if !errors.As(err, &e) || e.Code != orgdb.CodeEncryption || e.Reason != reason {
		t.Fatalf("err = %v, want ENCRYPTION_ERROR %s", err, reason)
	}
	if strings.Contains(err.Error(), plaintext) || strings.Contains(fmt.Sprintf("%+v", err), plaintext) {
		t.Fatalf("error leaks the plaintext: %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	k := mustKey(t, seal.GenerateKey())
	a, err := k.Seal(orgdb.ProviderAnthropic, seal.NewSecret(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.Seal(orgdb.ProviderAnthropic, seal.NewSecret(plaintext))
	if a == b {
		t.Error("two seals of one key are equal: the nonce is not random")
	}
	if !strings.HasPrefix(a, "v1:"+k.ID()+":") || strings.Contains(a, plaintext) || len(k.ID()) != 8 {
		t.Errorf("sealed = %q", a)
	}
	if id, err := seal.SealedKeyID(a); err != nil || id != k.ID() {
		t.Errorf("SealedKeyID = %q, %v", id, err)
	}
	for _, s := range []string{a, b} {
		got, err := k.Open(orgdb.ProviderAnthropic, s)
		if err != nil || got.Reveal() != plaintext {
			t.Fatalf("Open = %v, %v", got.Reveal() == plaintext, err)
		}
	}
	// The empty key seals and opens too (the store refuses it earlier).
	e, _ := k.Seal(orgdb.ProviderOpenAI, seal.NewSecret(""))
	if got, err := k.Open(orgdb.ProviderOpenAI, e); err != nil || !got.IsZero() {
		t.Errorf("empty round trip: %v", err)
	}
}

func TestOpenFailures(t *testing.T) {
	k := mustKey(t, seal.GenerateKey())
	other := mustKey(t, seal.GenerateKey())
	sealed, err := k.Seal(orgdb.ProviderOpenAI, seal.NewSecret(plaintext))
	if err != nil {
		t.Fatal(err)
	}

	_, err = other.Open(orgdb.ProviderOpenAI, sealed)
	wantReason(t, err, seal.ReasonWrongKey)
	if !strings.Contains(err.Error(), k.ID()) || !strings.Contains(err.Error(), other.ID()) {
		t.Errorf("wrong-key error does not name both key ids: %v", err)
	}

	_, err = k.Open(orgdb.ProviderAnthropic, sealed)
	wantReason(t, err, seal.ReasonTampered) // copied onto another provider's row

	// The other key, claiming this key's id in the header, still fails.
	forged := strings.Replace(sealed, "v1:"+k.ID(), "v1:"+other.ID(), 1)
	_, err = other.Open(orgdb.ProviderOpenAI, forged)
	wantReason(t, err, seal.ReasonTampered)

	// Every single-byte change of the body fails to open.
	head := "v1:" + k.ID() + ":"
	body, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, head))
	for i := range body {
		tampered := bytes.Clone(body)
		tampered[i] ^= 0x01
		_, err := k.Open(orgdb.ProviderOpenAI, head+base64.RawURLEncoding.EncodeToString(tampered))
		wantReason(t, err, seal.ReasonTampered)
	}
	// Every truncation fails to open.
	for n := range len(sealed) {
		if _, err := k.Open(orgdb.ProviderOpenAI, sealed[:n]); err == nil {
			t.Fatalf("truncated to %d characters: opened", n)
		} else {
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeEncryption {
				t.Fatalf("truncated to %d: %v", n, err)
			}
		}
	}
	for _, bad := range []string{"", "plain-text-key", "v2:" + k.ID() + ":AAAA", "v1:" + k.ID() + ":!!not base64!!", "v1::AAAA"} {
		_, err := k.Open(orgdb.ProviderOpenAI, bad)
		wantReason(t, err, seal.ReasonMalformed)
	}
	_, err = seal.Key{}.Open(orgdb.ProviderOpenAI, sealed)
	wantReason(t, err, seal.ReasonBadKey)
	if _, err := k.Seal("mistral", seal.NewSecret(plaintext)); !errors.Is(err, orgdb.ErrValidation) {
		t.Errorf("Seal for an unknown provider: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	forms := []string{
		base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw), " " + base64.StdEncoding.EncodeToString(raw) + "\n",
	}
	want := mustKey(t, forms[0]).ID()
	for _, f := range forms {
		if k := mustKey(t, f); k.ID() != want {
			t.Errorf("ParseKey(%q) has id %s, want %s", f, k.ID(), want)
		}
	}
	for name, bad := range map[string]string{
		"missing":     "",
		"blank":       "   ",
		"short":       base64.StdEncoding.EncodeToString(raw[:16]),
		"long":        base64.StdEncoding.EncodeToString(append(raw, 1)),
		"not base64":  "this is not base64 at all!",
		"passphrase":  "passphrase:too short",
		"hex 32 byte": strings.Repeat("ab", 32),
	} {
		_, err := seal.ParseKey(bad)
		wantReason(t, err, seal.ReasonBadKey)
		if len(bad) > 8 && strings.Contains(err.Error(), strings.TrimSpace(bad)) {
			t.Errorf("%s: error repeats the value: %v", name, err)
		}
	}
	if _, err := seal.KeyFromEnv(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), seal.EnvVar) {
		t.Errorf("KeyFromEnv with nothing set: %v", err)
	}
}

func mustDerive(t *testing.T, k seal.Key, kdf seal.KDF) seal.Key {
	t.Helper()
	d, err := k.Derive(kdf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPassphraseKey(t *testing.T) {
	if testing.Short() {
		t.Skip("PBKDF2 with 600k rounds")
	}
	const pass = "correct horse battery staple"
	p := mustKey(t, "passphrase:"+pass)
	if !p.IsPassphrase() || p.ID() != "" {
		t.Fatalf("ParseKey(passphrase) = %v, want a key not derived yet", p)
	}
	if _, err := p.Seal(orgdb.ProviderGoogle, seal.NewSecret(plaintext)); err == nil {
		t.Fatal("a passphrase key not derived sealed")
	}
	db1, db2 := seal.NewKDF(), seal.NewKDF()
	a := mustDerive(t, p, db1)
	b := mustDerive(t, mustKey(t, "passphrase:"+pass), db1)
	c := mustDerive(t, mustKey(t, "passphrase:"+pass+"r"), db1)
	other := mustDerive(t, p, db2)
	if a.ID() != b.ID() || a.ID() == c.ID() || a.ID() == other.ID() || len(a.ID()) != 8 {
		t.Errorf("passphrase keys: same salt %s %s, other passphrase %s, other salt %s", a.ID(), b.ID(), c.ID(), other.ID())
	}
	s, _ := a.Seal(orgdb.ProviderGoogle, seal.NewSecret(plaintext))
	if got, err := b.Open(orgdb.ProviderGoogle, s); err != nil || got.Reveal() != plaintext {
		t.Errorf("open with the same passphrase and salt: %v", err)
	}
	_, err := other.Open(orgdb.ProviderGoogle, s)
	wantReason(t, err, seal.ReasonWrongKey)

	// The fixed salt derives the key older versions derived, which opens
	// what they sealed and seals nothing.
	oldBytes, err := pbkdf2.Key(sha256.New, pass, []byte(seal.PassphraseSalt), seal.PassphraseIterations, seal.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	old, err := seal.NewKey(oldBytes)
	if err != nil {
		t.Fatal(err)
	}
	sealedBefore, _ := old.Seal(orgdb.ProviderOpenAI, seal.NewSecret(plaintext))
	legacy := mustDerive(t, p, seal.FixedKDF())
	if legacy.ID() != old.ID() || legacy.ID() == a.ID() {
		t.Fatalf("fixed-salt key %s, older versions' key %s, per-database key %s", legacy.ID(), old.ID(), a.ID())
	}
	if got, err := legacy.Open(orgdb.ProviderOpenAI, sealedBefore); err != nil || got.Reveal() != plaintext {
		t.Errorf("fixed-salt key does not open what older versions sealed: %v", err)
	}
	_, err = legacy.Seal(orgdb.ProviderOpenAI, seal.NewSecret(plaintext))
	wantReason(t, err, seal.ReasonBadKey)

	// A raw key is the same in every database.
	raw := mustKey(t, seal.GenerateKey())
	if d := mustDerive(t, raw, db1); d != raw || raw.IsPassphrase() {
		t.Error("Derive changed a raw key")
	}
	// A weakened derivation is refused, without the passphrase in the error.
	for _, weak := range []seal.KDF{{Salt: db1.Salt[:8], Iterations: db1.Iterations}, {Salt: db1.Salt, Iterations: 1000}} {
		_, err := p.Derive(weak)
		wantReason(t, err, seal.ReasonBadKey)
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error leaks the passphrase: %v", err)
		}
	}
	for _, v := range []any{p, a, legacy} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, pass) || strings.Contains(out, "horse") {
				t.Errorf("key prints its passphrase: %s", out)
			}
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := seal.NewSecret(plaintext)
	type exported struct {
		Provider string
		Key      seal.Secret
	}
	type unexported struct {
		provider string
		key      seal.Secret
	}
	k := mustKey(t, seal.GenerateKey())
	var out []string
	for _, v := range []any{s, &s, exported{"openai", s}, &exported{"openai", s}, unexported{"openai", s}, []seal.Secret{s}, map[string]seal.Secret{"k": s}, k} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
		b, err := json.Marshal(v)
		if err == nil {
			out = append(out, string(b))
		}
	}
	out = append(out, s.String(), s.GoString())
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("key", "secret", s, "struct", exported{"openai", s})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("key", "secret", s)
	out = append(out, logs.String())
	for _, o := range out {
		if strings.Contains(o, plaintext) || strings.Contains(o, "SECRET") || strings.Contains(o, fmt.Sprintf("%x", plaintext)) {
			t.Errorf("leak: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprintf("%v", s), seal.Redacted) {
		t.Error("Secret does not say it is redacted")
	}
	if s.Reveal() != plaintext {
		t.Error("Reveal")
	}
	if b, _ := json.Marshal(exported{"openai", s}); string(b) != `{"Provider":"openai","Key":"[REDACTED]"}` {
		t.Errorf("JSON = %s", b)
	}
}
