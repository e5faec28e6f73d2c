package store

import (
	"context"
	"database/sql"
	"errors"

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

// newKeyEnvVar names the variable that `orgdb keys rotate` reads the new
// sealing key from; the refusal below names it as part of the fix.
const newKeyEnvVar = "ORGDB_NEW_ENCRYPTION_KEY"

// wrongSealingKey is the refusal of a sealing key that is not the
// recorded one: it names both key ids and the two ways out.
func wrongSealingKey(recorded string, have seal.Key) *orgdb.Error {
	return orgdb.Encryption(nil,
		"the org API keys are sealed with sealing key %s, but this process has key %s (an old or wrong key): "+
			"set %s to key %s, the one in use; to move the stored keys to key %s instead, run `orgdb keys rotate` with %s = key %s and %s = key %s",
		recorded, have.ID(), seal.EnvVar, recorded, have.ID(), seal.EnvVar, recorded, newKeyEnvVar, have.ID()).
		WithReason(seal.ReasonWrongKey).
		WithDetails("recordedKeyId", recorded).
		WithDetails("keyId", have.ID())
}

// checkSealingKey refuses k if org API keys are stored under another
// recorded key. It reads in one snapshot.
func (s *Store) checkSealingKey(ctx context.Context, k seal.Key) error {
	return s.ReadTx(ctx, func(q *db.Queries) error {
		rec, err := q.GetSealingKey(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return Translate(err, "sealing key record")
		}
		stored, err := q.HasOrgAPIKeys(ctx)
		if err != nil {
			return Translate(err, "org API keys")
		}
		if stored && rec.KeyID != k.ID() {
			return wrongSealingKey(rec.KeyID, k)
		}
		return nil
	})
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
		return orgdb.Encryption(nil,
			"rotate sealing key: nothing changed: the org API keys are sealed with sealing key %s, not with the old key %s: set %s to key %s",
			rec.KeyID, old.ID(), seal.EnvVar, rec.KeyID).
			WithReason(seal.ReasonWrongKey).WithDetails("recordedKeyId", rec.KeyID).WithDetails("keyId", old.ID())
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
