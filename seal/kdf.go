package seal

import (
	"crypto/rand"

	"github.com/agentops/orgdb"
)

// KDF is how a database turns a passphrase into its sealing key:
// PBKDF2-HMAC-SHA256 with the database's own random salt and iteration
// count. Neither is secret; both are stored in the database (table
// sealing_kdf, chosen once by migration 0011), so two databases given the
// same passphrase get different keys, and the count can be raised for new
// databases without breaking old ones.
type KDF struct {
	Salt       []byte
	Iterations int
	fixed      bool // FixedKDF: derives open-only keys
}

// The bounds Derive enforces on a database's KDF, so that a database
// edited to a short salt or a low count cannot make a passphrase cheap to
// guess, and one edited (or corrupted) to a huge count cannot hang every
// process that opens it with a passphrase key.
//
// MaxIterations is about 16 times [PassphraseIterations]: a derivation at
// the maximum costs 16 times one at 600,000 rounds (0.1–0.3 s), so a few
// seconds (1.9 s measured on a loaded 2-core machine), and an Open may
// derive twice (the database's salt and the fixed salt of older
// versions): the worst a database within bounds costs is seconds, not
// hours. It leaves room for future migrations to raise the count as
// guidance does (OWASP went from 310,000 to 600,000 rounds of
// PBKDF2-HMAC-SHA256 in 2023) for years before the bound has to move.
const (
	MinSaltSize   = 16
	MinIterations = PassphraseIterations
	MaxIterations = 10_000_000
)

// NewKDF returns parameters with a new random salt of [MinSaltSize] bytes
// and [PassphraseIterations] rounds, as migration 0011 chooses them.
func NewKDF() KDF {
	salt := make([]byte, MinSaltSize)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	return KDF{Salt: salt, Iterations: PassphraseIterations}
}

// FixedKDF is the derivation of orgdb before per-database salts: the
// fixed, public salt [PassphraseSalt] and [PassphraseIterations] rounds. A
// key derived with it opens the values sealed then and seals nothing:
// rotating moves those values to the database's own salt.
func FixedKDF() KDF {
	return KDF{Salt: []byte(PassphraseSalt), Iterations: PassphraseIterations, fixed: true}
}

// IsFixed reports whether kdf is [FixedKDF].
func (kdf KDF) IsFixed() bool { return kdf.fixed }

// IsPassphrase reports whether k is a passphrase key not derived yet: it
// seals and opens only once [Key.Derive] has given it a database's salt.
func (k Key) IsPassphrase() bool { return k.k != nil && k.k.derive != nil }

// Derive returns the key k stands for in a database with the derivation
// kdf: for a passphrase key, PBKDF2 of the passphrase with kdf's salt and
// count (about 0.3 s at 600,000 rounds); any other key is returned as it
// is. A key derived with [FixedKDF] opens values and does not seal. A
// salt shorter than [MinSaltSize] or a count below [MinIterations] or above
// [MaxIterations] is an ENCRYPTION_ERROR (bad_sealing_key), returned
// before any derivation runs; no error contains the passphrase.
func (k Key) Derive(kdf KDF) (Key, error) {
	if !k.IsPassphrase() {
		return k, nil
	}
	if !kdf.fixed && (len(kdf.Salt) < MinSaltSize || kdf.Iterations < MinIterations) {
		return Key{}, orgdb.Encryption(nil, "the database's passphrase derivation is too weak (a %d-byte salt, %d rounds; want at least %d bytes and %d rounds): the sealing_kdf row was altered",
			len(kdf.Salt), kdf.Iterations, MinSaltSize, MinIterations).WithReason(ReasonBadKey)
	}
	if !kdf.fixed && kdf.Iterations > MaxIterations {
		return Key{}, orgdb.Encryption(nil, "the database's passphrase derivation asks for %d rounds, more than the %d orgdb runs (it would take too long to derive the key): "+
			"the sealing_kdf row was altered or the file is damaged; restore the database from a backup",
			kdf.Iterations, MaxIterations).WithReason(ReasonBadKey)
	}
	b, err := k.k.derive(k.k.passphrase, kdf)
	if err != nil {
		return Key{}, orgdb.Encryption(err, "derive sealing key from passphrase").WithReason(ReasonBadKey)
	}
	d, err := NewKey(b)
	if err != nil {
		return Key{}, err
	}
	d.k.openOnly = kdf.fixed
	return d, nil
}

// usable refuses the zero key and a passphrase key not derived yet.
func (k Key) usable() error {
	switch {
	case k.k == nil:
		return orgdb.Encryption(nil, "no sealing key configured").WithReason(ReasonBadKey)
	case k.IsPassphrase():
		return orgdb.Encryption(nil, "passphrase sealing key not derived: it takes the salt of a database (open the store with it)").WithReason(ReasonBadKey)
	}
	return nil
}
