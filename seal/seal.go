// Package seal encrypts the organization's LLM API keys at rest with
// AES-256-GCM from the standard library.
//
// A sealed value is text: "v1:<key-id>:<base64url(nonce ‖ ciphertext)>".
// The key id names the sealing key (a fingerprint, not the key), so a value
// sealed under another key is recognised and keys can be rotated. Every seal
// uses a fresh random nonce. The additional authenticated data is the
// header and the provider ("v1:<key-id>:<provider>"), so a value copied onto
// another provider's row, or given another header, fails to open.
//
// A passphrase sealing key is derived per database ([KDF], [Key.Derive]):
// the same passphrase gives a different key in every database.
//
// Plaintext keys travel as [Secret], which never prints, logs or marshals
// its value.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/agentops/orgdb"
)

// EnvVar is the environment variable that holds the sealing key.
const EnvVar = "ORGDB_ENCRYPTION_KEY"

// NewKeyEnvVar is the environment variable that holds the key `orgdb keys
// rotate` re-seals under; the store's refusal of a wrong key names it as
// part of the fix.
const NewKeyEnvVar = "ORGDB_NEW_ENCRYPTION_KEY"

// KeySize is the size of a sealing key in bytes (AES-256).
const KeySize = 32

// PassphrasePrefix marks a passphrase instead of a base64 key in
// ORGDB_ENCRYPTION_KEY ("passphrase:<at least 16 characters>"). The key is
// derived with PBKDF2-HMAC-SHA256 and the salt and iteration count of the
// database it seals for ([KDF], [Key.Derive]): the same passphrase gives a
// different key in every database. PassphraseSalt is the fixed, public
// salt orgdb used before that ([FixedKDF]); keys derived with it only open
// the values sealed then.
const (
	PassphrasePrefix     = "passphrase:"
	PassphraseSalt       = "orgdb sealing key v1"
	PassphraseIterations = 600_000
	minPassphrase        = 16
)

// Reasons of the ENCRYPTION_ERRORs returned here, in orgdb.Error.Reason.
const (
	ReasonBadKey    = "bad_sealing_key"   // the configured key is missing or malformed
	ReasonWrongKey  = "wrong_sealing_key" // the value was sealed with another key
	ReasonMalformed = "malformed_sealed_value"
	ReasonTampered  = "authentication_failed" // changed, truncated inside, or moved to another provider
)

// version is the only format this package writes and reads.
const version = "v1"

// Key is a sealing key. Its String, GoString and formatting show only its
// id; the key bytes stay inside.
type Key struct {
	k *keyData // behind a pointer so reflection-based printing shows an address
}

type keyData struct {
	id   string
	aead cipher.AEAD
	// openOnly: derived with the fixed salt, it opens old values only.
	openOnly bool
	// passphrase and derive are set on a passphrase key not derived yet
	// (then id and aead are not).
	passphrase string
	derive     func(passphrase string, kdf KDF) ([]byte, error)
}

// NewKey returns the sealing key made of 32 bytes.
func NewKey(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, orgdb.Encryption(nil, "sealing key must be %d bytes, got %d", KeySize, len(b)).WithReason(ReasonBadKey)
	}
	block, err := aes.NewCipher(b)
	if err != nil {
		return Key{}, orgdb.Encryption(err, "sealing key: %v", err).WithReason(ReasonBadKey)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, orgdb.Encryption(err, "sealing key: %v", err).WithReason(ReasonBadKey)
	}
	mac := hmac.New(sha256.New, b)
	mac.Write([]byte("orgdb sealing key id"))
	return Key{&keyData{id: hex.EncodeToString(mac.Sum(nil)[:4]), aead: aead}}, nil
}

// ParseKey reads a sealing key as written in ORGDB_ENCRYPTION_KEY: the
// base64 (standard or URL alphabet, padded or not) of 32 random bytes, or
// PassphrasePrefix followed by a passphrase of at least 16 characters. An
// empty, short or malformed value is an error that never repeats the value.
//
// A passphrase key is returned not derived yet ([Key.IsPassphrase]): it
// seals and opens only once derived with a database's [KDF], which
// store.Open does. Its ID is empty until then.
func ParseKey(s string) (Key, error) { return parseKey("sealing key", s) }

// KeyFromEnv reads the sealing key from ORGDB_ENCRYPTION_KEY through getenv
// (os.Getenv in production); errors name the variable.
func KeyFromEnv(getenv func(string) string) (Key, error) {
	return KeyFromEnvVar(getenv, EnvVar)
}

// KeyFromEnvVar reads a sealing key from the environment variable name.
func KeyFromEnvVar(getenv func(string) string, name string) (Key, error) {
	return parseKey(name, getenv(name))
}

func parseKey(name, s string) (Key, error) { return parseKeyWith(name, s, derive) }

// derive turns a passphrase into key bytes: PBKDF2-HMAC-SHA256 with the
// salt and iteration count of kdf (600,000 rounds: about 0.3 s by design).
func derive(passphrase string, kdf KDF) ([]byte, error) {
	return pbkdf2.Key(sha256.New, passphrase, kdf.Salt, kdf.Iterations, KeySize)
}

// parseKeyWith is parseKey with the passphrase derivation passed in, so the
// fuzz test can exercise the parsing, validation and derivation steps at
// full speed with a cheap derivation; ParseKey always passes derive.
func parseKeyWith(name, s string, derive func(string, KDF) ([]byte, error)) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, orgdb.Encryption(nil, "%s is not set: generate a key with 'orgdb keys gen-sealing-key' (or openssl rand -base64 32)", name).
			WithReason(ReasonBadKey)
	}
	if p, ok := strings.CutPrefix(s, PassphrasePrefix); ok {
		if len(p) < minPassphrase {
			return Key{}, orgdb.Encryption(nil, "%s passphrase is shorter than %d characters", name, minPassphrase).WithReason(ReasonBadKey)
		}
		return Key{&keyData{passphrase: p, derive: derive}}, nil
	}
	b, err := decodeBase64(s)
	if err != nil {
		return Key{}, orgdb.Encryption(nil, "%s is not base64: want 32 random bytes in base64 (or %s...)", name, PassphrasePrefix).
			WithReason(ReasonBadKey)
	}
	if len(b) != KeySize {
		return Key{}, orgdb.Encryption(nil, "%s decodes to %d bytes, want %d", name, len(b), KeySize).WithReason(ReasonBadKey)
	}
	return NewKey(b)
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// GenerateKey returns a new random key as it goes in ORGDB_ENCRYPTION_KEY.
func GenerateKey() string {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.StdEncoding.EncodeToString(b)
}

// ID returns the key's fingerprint, as written in sealed values. It is
// derived one-way from the key and safe to show. It is empty for the zero
// Key and for a passphrase key not derived yet.
func (k Key) ID() string {
	if k.k == nil {
		return ""
	}
	return k.k.id
}

// IsZero reports whether k is the zero Key (no key).
func (k Key) IsZero() bool { return k.k == nil }

// String shows the key's id only ("passphrase, not derived" for a
// passphrase key not derived yet).
func (k Key) String() string {
	if k.IsPassphrase() {
		return "seal.Key(passphrase, not derived)"
	}
	return "seal.Key(" + k.ID() + ")"
}

// GoString shows the key's id only.
func (k Key) GoString() string { return k.String() }

// Format shows the key's id only, whatever the verb.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

func aad(keyID string, p orgdb.Provider) []byte {
	return []byte(version + ":" + keyID + ":" + string(p))
}

// Seal encrypts a provider's API key. A passphrase key not derived yet,
// and a key derived with [FixedKDF], do not seal.
func (k Key) Seal(p orgdb.Provider, plaintext Secret) (string, error) {
	if err := k.usable(); err != nil {
		return "", err
	}
	if k.k.openOnly {
		return "", orgdb.Encryption(nil, "sealing key %s was derived with the fixed salt of older orgdb versions: it opens the values sealed then, and seals nothing; run `orgdb keys rotate` to re-seal them under this database's salt", k.k.id).
			WithReason(ReasonBadKey)
	}
	if !p.Valid() {
		return "", orgdb.Validation("invalid provider %q", string(p))
	}
	a := k.k.aead
	buf := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext.Reveal())+a.Overhead())
	rand.Read(buf) // the nonce; crypto/rand never fails
	buf = a.Seal(buf, buf, []byte(plaintext.Reveal()), aad(k.k.id, p))
	return version + ":" + k.k.id + ":" + base64.RawURLEncoding.EncodeToString(buf), nil
}

// SealedKeyID returns the id of the key a sealed value names, or an error
// if the value is not in a known format.
func SealedKeyID(sealed string) (string, error) {
	_, id, _, err := split(sealed)
	return id, err
}

func split(sealed string) (ver, id, body string, err error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", orgdb.Encryption(nil, "sealed value is malformed").WithReason(ReasonMalformed)
	}
	if parts[0] != version {
		return "", "", "", orgdb.Encryption(nil, "sealed value has unknown version %q", truncate(parts[0])).WithReason(ReasonMalformed)
	}
	return parts[0], parts[1], parts[2], nil
}

// Open decrypts a provider's sealed API key. A value sealed with another
// key, malformed, truncated, tampered with or belonging to another
// provider is an ENCRYPTION_ERROR whose text says which but contains
// neither the key nor the value.
func (k Key) Open(p orgdb.Provider, sealed string) (Secret, error) {
	if err := k.usable(); err != nil {
		return Secret{}, err
	}
	_, id, body, err := split(sealed)
	if err != nil {
		return Secret{}, err
	}
	if id != k.k.id {
		return Secret{}, orgdb.Encryption(nil, "%s key was sealed with key %s, not the configured key %s", p, truncate(id), k.k.id).
			WithReason(ReasonWrongKey)
	}
	// Strict and re-encoded: the decoder skips CR and LF and tolerates stray
	// trailing bits, so without this check other texts than the one Seal
	// wrote would open too.
	buf, err := base64.RawURLEncoding.Strict().DecodeString(body)
	a := k.k.aead
	if err != nil || len(buf) < a.NonceSize()+a.Overhead() || base64.RawURLEncoding.EncodeToString(buf) != body {
		return Secret{}, orgdb.Encryption(nil, "%s key: sealed value is malformed or truncated", p).WithReason(ReasonMalformed)
	}
	plain, err := a.Open(nil, buf[:a.NonceSize()], buf[a.NonceSize():], aad(id, p))
	if err != nil {
		return Secret{}, orgdb.Encryption(nil, "%s key failed authentication: tampered with, truncated or copied from another provider", p).
			WithReason(ReasonTampered)
	}
	return NewSecret(string(plain)), nil
}

func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
