package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// A database whose sealing_kdf row was edited to a huge PBKDF2 count (the
// row's UPDATE trigger dropped, the row changed and the trigger put back,
// so the catalog is the migrated one) is refused by Open with a passphrase
// key at once: ENCRYPTION_ERROR bad_sealing_key, the same as a count too
// small, and nothing changes. Without the bound, Open would run PBKDF2 for
// 2^62 rounds: the guard below fails the test instead of hanging it.
func TestOpenRefusesHugeKDFIterations(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	must(t, err)
	must(t, st.Close())
	raw := dbtest.Raw(t, path)
	trigger := dbtest.Strings(t, raw, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'sealing_kdf_no_update'`)
	if len(trigger) != 1 {
		t.Fatalf("trigger sealing_kdf_no_update: %q", trigger)
	}
	exec(t, raw, `DROP TRIGGER sealing_kdf_no_update`)
	exec(t, raw, `UPDATE sealing_kdf SET iterations = ?`, int64(1)<<62)
	exec(t, raw, trigger[0])
	before := dbtest.Snapshot(t, raw)

	type result struct {
		st  *store.Store
		err error
	}
	done := make(chan result, 1)
	key := passphraseKey(t)
	start := time.Now()
	go func() {
		st, err := store.Open(ctx, path, store.WithSealingKey(key))
		done <- result{st, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute): // a guard, not a wait: Open returns in milliseconds
		t.Fatal("Open with a passphrase key is still deriving after a minute: the iteration count is not bounded")
	}
	if r.err == nil {
		must(t, r.st.Close())
	}
	wantErr(t, r.err, orgdb.CodeEncryption, seal.ReasonBadKey)
	if msg := r.err.Error(); !strings.Contains(msg, "4611686018427387904 rounds") || strings.Contains(msg, strings.TrimPrefix(passphrase, seal.PassphrasePrefix)) {
		t.Errorf("error %q: want the count, never the passphrase", msg)
	}
	t.Logf("refused in %v", time.Since(start))
	if dbtest.Snapshot(t, raw) != before {
		t.Error("the refused Open changed the database")
	}

	// A raw key derives nothing: the count does not concern it.
	k, err := seal.ParseKey(seal.GenerateKey())
	must(t, err)
	st, err = store.Open(ctx, path, store.WithSealingKey(k))
	must(t, err)
	must(t, st.Close())
}
