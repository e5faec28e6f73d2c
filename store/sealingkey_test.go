package store_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// wantWrongKey fails unless err refuses the sealing key have in favour of
// the recorded one, naming both ids and the rotate command.
func wantWrongKey(t *testing.T, err error, recorded, have seal.Key) {
	t.Helper()
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonWrongKey)
	for _, s := range []string{recorded.ID(), have.ID(), "orgdb keys rotate"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("refusal %q does not name %q", err, s)
		}
	}
}

func TestSealingKeyIsRecordedAndEnforced(t *testing.T) {
	t.Parallel()
	keyA, keyB := newKey(t), newKey(t)
	st := dbtest.New(t, store.WithSealingKey(keyA))
	path := dbtest.File(t, st.DB())
	admin := signup(t, st, "ada@acme.test")

	if _, ok, err := st.SealingKeyID(ctx); err != nil || ok {
		t.Fatalf("before any key is set: recorded=%v, %v", ok, err)
	}
	if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret("sk-a")); err != nil {
		t.Fatal(err)
	}
	if id, ok, err := st.SealingKeyID(ctx); err != nil || !ok || id != keyA.ID() {
		t.Fatalf("recorded = %q %v %v, want %s", id, ok, err, keyA.ID())
	}
	views, err := st.ListOrgAPIKeyViews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 {
		t.Fatalf("views = %+v, want the one stored key", views)
	}
	for _, v := range views {
		if v.SealedWith != keyA.ID() {
			t.Errorf("%s: sealed with %q, want %q", v.Provider, v.SealedWith, keyA.ID())
		}
	}

	// Opening with another key is refused while keys are stored.
	_, err = store.Open(ctx, path, store.WithSealingKey(keyB))
	wantWrongKey(t, err, keyA, keyB)

	// After a rotation to B, the store still holding A is refused, with the
	// fix named, and the database is unchanged.
	if n, err := st.RotateSealingKey(ctx, operator, keyA, keyB); err != nil || n != 1 {
		t.Fatalf("rotate = %d, %v", n, err)
	}
	if id, _, _ := st.SealingKeyID(ctx); id != keyB.ID() {
		t.Fatalf("recorded after rotation = %s, want %s", id, keyB.ID())
	}
	before := dbtest.Snapshot(t, st.DB())
	_, err = st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderGoogle, seal.NewSecret("sk-old"))
	wantWrongKey(t, err, keyB, keyA)
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Fatal("a refused SetOrgAPIKey changed the database")
	}
	_, err = store.Open(ctx, path, store.WithSealingKey(keyA))
	wantWrongKey(t, err, keyB, keyA)

	// The rotation run again finds B recorded and changes nothing.
	if n, err := st.RotateSealingKey(ctx, operator, keyA, keyB); err != nil || n != 0 {
		t.Fatalf("second rotation = %d, %v", n, err)
	}
	// A rotation from a key that is not recorded is refused.
	keyC := newKey(t)
	_, err = st.RotateSealingKey(ctx, operator, keyC, keyA)
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonWrongKey)
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Fatal("a refused rotation changed the database")
	}
}

// The triggers refuse a value sealed under another key even from a raw
// query in st.Tx, which skips the store's own check.
func TestSealingKeyTriggerRefusesRawWrites(t *testing.T) {
	t.Parallel()
	keyA, keyB := newKey(t), newKey(t)
	st := dbtest.New(t, store.WithSealingKey(keyA))
	admin := signup(t, st, "ada@acme.test")
	for _, p := range []orgdb.Provider{orgdb.ProviderAnthropic, orgdb.ProviderGoogle} {
		must(t, second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), p, seal.NewSecret("sk-a"))))
	}
	underB, err := keyB.Seal(orgdb.ProviderOpenAI, seal.NewSecret("sk-b"))
	if err != nil {
		t.Fatal(err)
	}
	before := dbtest.Snapshot(t, st.DB())
	err = st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
		_, err := q.UpsertOrgAPIKey(ctx, db.UpsertOrgAPIKeyParams{
			ID: orgdb.NewID(), Provider: orgdb.ProviderOpenAI, EncryptedKey: underB, SetBy: admin.ID, Now: st.Now(),
		})
		return store.Translate(err, "org API key")
	})
	if err == nil || !strings.Contains(err.Error(), "recorded sealing key") {
		t.Fatalf("raw insert under another key: %v", err)
	}
	_, err = st.DB().Exec(`UPDATE org_api_keys SET encrypted_key = ? WHERE provider = 'anthropic'`, underB)
	if err == nil || !strings.Contains(err.Error(), "recorded sealing key") {
		t.Fatalf("raw update under another key: %v", err)
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Fatal("a refused raw write changed the database")
	}
}

// With no key stored, nothing is sealed under the recorded key, so another
// key may take the record over; but a process still holding the old key
// cannot replace even the only stored key.
func TestSealingKeyTakenOverWhenNoKeyIsStored(t *testing.T) {
	t.Parallel()
	keyA, keyB := newKey(t), newKey(t)
	st := dbtest.New(t, store.WithSealingKey(keyA))
	path := dbtest.File(t, st.DB())
	admin := signup(t, st, "ada@acme.test")
	if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret("sk-a")); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteOrgAPIKey(ctx, asAdmin(t, st), orgdb.ProviderAnthropic); err != nil {
		t.Fatal(err)
	}
	stB, err := store.Open(ctx, path, store.WithSealingKey(keyB))
	if err != nil {
		t.Fatalf("open with another key while no key is stored: %v", err)
	}
	t.Cleanup(func() { stB.Close() })
	if _, err := stB.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret("sk-b")); err != nil {
		t.Fatal(err)
	}
	if id, _, _ := stB.SealingKeyID(ctx); id != keyB.ID() {
		t.Fatalf("recorded = %s, want %s", id, keyB.ID())
	}
	// st still holds key A (opened before B took over): re-setting the only
	// stored key under A is refused, and the record stays B.
	before := dbtest.Snapshot(t, st.DB())
	_, err = st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret("sk-stale"))
	wantWrongKey(t, err, keyB, keyA)
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Fatal("a refused SetOrgAPIKey changed the database")
	}

	// With every key deleted, a rotation from a key that is not recorded
	// just records the new key.
	must(t, stB.DeleteOrgAPIKey(ctx, asAdmin(t, stB), orgdb.ProviderOpenAI))
	keyC, keyD := newKey(t), newKey(t)
	if n, err := stB.RotateSealingKey(ctx, operator, keyC, keyD); err != nil || n != 0 {
		t.Fatalf("rotation with no key stored = %d, %v", n, err)
	}
	if id, _, _ := stB.SealingKeyID(ctx); id != keyD.ID() {
		t.Fatalf("recorded after a rotation with no key stored = %s, want %s", id, keyD.ID())
	}
}

// Migration 0010 records the key id of keys sealed before it existed.
func TestSealingKeyMigrationRecordsExistingKeys(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	path := dbtest.Path(t)
	raw := dbtest.Raw(t, path)
	before := fstest.MapFS{}
	ms, err := schema.Load(schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	var record string
	for _, m := range ms {
		if m.Version >= 10 {
			break
		}
		before[m.File] = &fstest.MapFile{Data: []byte(m.SQL)}
	}
	if _, err := schema.Migrate(context.Background(), raw, before); err != nil {
		t.Fatal(err)
	}
	sealed, err := key.Seal(orgdb.ProviderGoogle, seal.NewSecret("sk-g"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO users (id, email, role) VALUES ('u1', 'ada@acme.test', 'admin')`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k1', 'google', ?, 'u1')`, sealed); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, path, store.WithSealingKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if record, _, err = st.SealingKeyID(ctx); err != nil || record != key.ID() {
		t.Fatalf("recorded after migrating = %q, %v; want %s", record, err, key.ID())
	}
}
