package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"math"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
	"github.com/mattn/go-sqlite3"
)

// The database records which sealing key its org API keys are sealed with
// (table sealing_key: the key id, never the key), and its triggers refuse a
// sealed value under any other key while any key is stored. So every
// stored key opens with one sealing key. The first sealed value stored in
// an empty table records its key (a trigger; so another key takes the
// record over once every key was deleted), and the record moves with
// [Store.RotateSealingKey]. Writes to sealing_key itself (the generated
// MoveSealingKey in Tx, or DB()) are not guarded: they are for the
// rotation.

// wrongSealingKey is the refusal of a sealing key that is not the
// recorded one: it names both key ids and the two ways out.
func wrongSealingKey(recorded string, have seal.Key) *orgdb.Error {
	return orgdb.Encryption(nil,
		"the org API keys are sealed with sealing key %s, not with this service's key %s: an operator must configure the key in use, or rotate the keys to this one",
		recorded, have.ID()).
		WithInternalMessage("the org API keys are sealed with sealing key %s, but this process has key %s (an old or wrong key): "+
			"set %s to key %s, the one in use; to move the stored keys to key %s instead, run `orgdb keys rotate` with %s = key %s and %s = key %s",
			recorded, have.ID(), seal.EnvVar, recorded, have.ID(), seal.EnvVar, recorded, seal.NewKeyEnvVar, have.ID()).
		WithReason(seal.ReasonWrongKey).
		WithDetails("recordedKeyId", recorded).
		WithDetails("keyId", have.ID())
}

// readKDF reads the database's passphrase derivation (table sealing_kdf,
// chosen once by migration 0011).
func readKDF(ctx context.Context, q *db.Queries) (seal.KDF, db.SealingKDF, error) {
	row, err := q.GetSealingKDF(ctx)
	if err != nil {
		return seal.KDF{}, row, Translate(err, "sealing key salt")
	}
	salt, err := hex.DecodeString(row.Salt)
	if err != nil {
		return seal.KDF{}, row, orgdb.Internal(err, "sealing key salt is not hex")
	}
	// Saturated where int is 32 bits, so a huge count stays huge and
	// Derive refuses it rather than a wrapped one.
	iterations := int(min(row.Iterations, math.MaxInt))
	return seal.KDF{Salt: salt, Iterations: iterations}, row, nil
}

// sealingRecord is what a key is checked against: the database's
// derivation, the recorded key (nil if none) and whether keys are stored.
type sealingRecord struct {
	kdf    seal.KDF
	row    db.SealingKDF
	rec    *db.SealingKey
	stored bool
}

// readSealingRecord reads the sealing record in one snapshot.
func (s *Store) readSealingRecord(ctx context.Context) (sealingRecord, error) {
	return ReadTxV(ctx, s, func(q *db.Queries) (r sealingRecord, err error) {
		if r.kdf, r.row, err = readKDF(ctx, q); err != nil {
			return r, err
		}
		rec, err := q.GetSealingKey(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return r, nil
		case err != nil:
			return r, Translate(err, "sealing key record")
		}
		r.rec = &rec
		r.stored, err = q.HasOrgAPIKeys(ctx)
		return r, Translate(err, "org API keys")
	})
}

// deriveFor returns k as it seals in this database, and, for a passphrase
// whose key with the database's salt is not the recorded one, the key
// with the fixed salt of older versions if that one is (else the zero
// Key). The derivations (PBKDF2, about 0.3 s each) run outside any
// transaction.
func deriveFor(r sealingRecord, k seal.Key) (key, legacy seal.Key, err error) {
	if key, err = k.Derive(r.kdf); err != nil {
		return seal.Key{}, seal.Key{}, err
	}
	if !k.IsPassphrase() || r.rec == nil || r.rec.KeyID == key.ID() {
		return key, seal.Key{}, nil
	}
	l, err := k.Derive(seal.FixedKDF())
	if err != nil {
		return seal.Key{}, seal.Key{}, err
	}
	if l.ID() == r.rec.KeyID {
		legacy = l
	}
	return key, legacy, nil
}

// setupSealingKey derives the configured key for this database and
// refuses it if org API keys are stored under another recorded key. Keys
// stored under the same passphrase with the fixed salt of older versions
// are accepted: they open with the legacy key, and a warning says to
// rotate.
func (s *Store) setupSealingKey(ctx context.Context) error {
	r, err := s.readSealingRecord(ctx)
	if err != nil {
		return err
	}
	key, legacy, err := deriveFor(r, s.key)
	if err != nil {
		return err
	}
	s.key, s.legacy = key, legacy
	switch {
	case r.rec == nil || !r.stored || r.rec.KeyID == key.ID():
		return nil
	case !legacy.IsZero():
		s.log.Warn("orgdb: the org API keys are sealed under the fixed salt of older orgdb versions: run `orgdb keys rotate` to move them to this database's own salt",
			"sealingKeyId", legacy.ID(), "newKeyId", key.ID())
		return nil
	}
	return wrongSealingKey(r.rec.KeyID, key)
}

// opener is the key that opens sealed: the legacy key for a value sealed
// under the fixed salt, else the store's key.
func (s *Store) opener(sealed string) seal.Key {
	if !s.legacy.IsZero() {
		if id, _ := seal.SealedKeyID(sealed); id == s.legacy.ID() {
			return s.legacy
		}
	}
	return s.key
}

// SealingState is how the stored org API keys are sealed, for `orgdb
// status`: nothing in it is secret.
type SealingState struct {
	// KeyID is the recorded sealing key ("" if none was ever recorded).
	KeyID string
	// KeysStored reports whether any org API key is stored.
	KeysStored bool
	// FixedSaltPossible: the stored keys are sealed under the key recorded
	// before this database got its own salt. If that key is a passphrase,
	// it uses the fixed salt of older versions: `orgdb keys rotate` moves
	// the keys to the database's salt. (A raw key is unaffected.)
	FixedSaltPossible bool
	// Iterations is the PBKDF2 count of the database's passphrase
	// derivation.
	Iterations int
}

// SealingState reads how the stored org API keys are sealed. Errors:
// INTERNAL_ERROR.
func (s *Store) SealingState(ctx context.Context) (SealingState, error) {
	r, err := s.readSealingRecord(ctx)
	if err != nil {
		return SealingState{}, err
	}
	st := SealingState{KeysStored: r.stored, Iterations: r.kdf.Iterations}
	if r.rec != nil {
		st.KeyID = r.rec.KeyID
		st.FixedSaltPossible = r.stored && r.row.LegacyKeyID != nil && *r.row.LegacyKeyID == r.rec.KeyID
	}
	return st, nil
}

// sealedUnderOtherKey turns the refusal of the sealing-key triggers, met
// by a write of a value sealed with k, into the error that names both key
// ids; err is returned translated if it was anything else. It reads the
// record in the writer's transaction, so it sees what refused the write.
func sealedUnderOtherKey(ctx context.Context, q *db.Queries, k seal.Key, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintTrigger {
		if rec, rerr := q.GetSealingKey(ctx); rerr == nil && rec.KeyID != k.ID() {
			return wrongSealingKey(rec.KeyID, k)
		}
	}
	return Translate(err, "org API key")
}

// notSealedWithOld refuses a rotation whose old key is not the recorded
// one.
func notSealedWithOld(recorded string, old seal.Key) *orgdb.Error {
	return orgdb.Encryption(nil,
		"rotate sealing key: nothing changed: the org API keys are sealed with sealing key %s, not with the old key %s",
		recorded, old.ID()).
		WithInternalMessage("rotate sealing key: nothing changed: the org API keys are sealed with sealing key %s, not with the old key %s: set %s to key %s",
			recorded, old.ID(), seal.EnvVar, recorded).
		WithReason(seal.ReasonWrongKey).WithDetails("recordedKeyId", recorded).WithDetails("keyId", old.ID())
}

// moveSealingKey moves the record from old to next at the start of a
// rotation. It succeeds when old is recorded, when next already is (the
// rotation is run again), when nothing is recorded yet, and when no key is
// stored (nothing is sealed under the recorded key).
func moveSealingKey(ctx context.Context, q *db.Queries, old, next seal.Key, now orgdb.Time) error {
	rec, err := q.GetSealingKey(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return Translate(err, "sealing key record")
	case rec.KeyID == next.ID():
		return nil
	case rec.KeyID != old.ID():
		// With no key stored, nothing is sealed under the recorded key:
		// the rotation just records next.
		stored, err := q.HasOrgAPIKeys(ctx)
		if err != nil {
			return Translate(err, "org API keys")
		}
		if !stored {
			_, err := q.MoveSealingKey(ctx, db.MoveSealingKeyParams{NewKeyID: next.ID(), Now: now, OldKeyID: rec.KeyID})
			return Translate(err, "sealing key record")
		}
		return notSealedWithOld(rec.KeyID, old)
	}
	if _, err := q.MoveSealingKey(ctx, db.MoveSealingKeyParams{NewKeyID: next.ID(), Now: now, OldKeyID: old.ID()}); err != nil {
		return Translate(err, "sealing key record")
	}
	return nil
}

// SealingKeyID returns the id of the recorded sealing key, which every
// stored org API key is sealed with, and false when none is recorded (no
// key was ever set). After every key was deleted it still returns the last
// one, which the next key set may replace. Errors: INTERNAL_ERROR.
func (s *Store) SealingKeyID(ctx context.Context) (string, bool, error) {
	rec, err := s.rq.GetSealingKey(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, Translate(err, "sealing key record")
	}
	return rec.KeyID, true, nil
}
