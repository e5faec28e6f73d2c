package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
)

// The database records which sealing key its org API keys are sealed with
// (table sealing_key: the key id, never the key), and its triggers refuse a
// sealed value under any other key. So every stored key opens with one
// sealing key. The record is taken by the first seal, moves only with
// [Store.RotateSealingKey], and may be taken over by another key only
// while no org API key is stored.

// newKeyEnvVar names the variable that `orgdb keys rotate` reads the new
// sealing key from; the refusal below names it as part of the fix.
const newKeyEnvVar = "ORGDB_NEW_ENCRYPTION_KEY"

// wrongSealingKey is the refusal of a sealing key that is not the
// recorded one: it names both key ids and the two ways out.
func wrongSealingKey(recorded string, have seal.Key) *orgdb.Error {
	return orgdb.Encryption(nil,
		"the org API keys are sealed with sealing key %s, but this process has key %s: "+
			"set %s to key %s, or move the keys to key %s with `orgdb keys rotate` (%s = key %s, %s = key %s)",
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

// claimSealingKey records k as the sealing key, inside the transaction
// that is about to store a value sealed with it, or refuses it when keys
// are stored under another one.
func claimSealingKey(ctx context.Context, q *db.Queries, k seal.Key, now orgdb.Time) error {
	n, err := q.ClaimSealingKey(ctx, db.ClaimSealingKeyParams{KeyID: k.ID(), Now: now})
	if err != nil {
		return Translate(err, "sealing key record")
	}
	if n == 1 {
		return nil
	}
	rec, err := q.GetSealingKey(ctx)
	if err != nil {
		return Translate(err, "sealing key record")
	}
	return wrongSealingKey(rec.KeyID, k)
}

// moveSealingKey moves the record from old to next at the start of a
// rotation. It succeeds when old is recorded, when next already is (the
// rotation is run again), and when nothing is recorded yet.
func moveSealingKey(ctx context.Context, q *db.Queries, old, next seal.Key, now orgdb.Time) error {
	rec, err := q.GetSealingKey(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return claimSealingKey(ctx, q, next, now)
	case err != nil:
		return Translate(err, "sealing key record")
	case rec.KeyID == next.ID():
		return nil
	case rec.KeyID != old.ID():
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

// SealingKeyID returns the id of the sealing key the org API keys are
// sealed with, and false when none is recorded (no key was ever set).
// Errors: INTERNAL_ERROR.
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
