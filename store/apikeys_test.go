package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

const secretKey = "sk-test-PLAINTEXT-4f9a2c"

func newKey(t *testing.T) seal.Key {
	t.Helper()
	k, err := seal.ParseKey(seal.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOrgAPIKeyRoundTripAndNoLeak(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	st := dbtest.New(t, store.WithSealingKey(k))
	admin := signup(t, st, "ada@acme.test")
	member := signup(t, st, "bob@acme.test")

	view, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret("  "+secretKey+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !view.IsSet || view.SetBy != admin.ID || view.Provider != orgdb.ProviderAnthropic || view.ID == "" {
		t.Errorf("view = %+v", view)
	}
	got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderAnthropic)
	if err != nil || got.Reveal() != secretKey {
		t.Fatalf("GetOrgAPIKey: %v (match %v)", err, got.Reveal() == secretKey)
	}

	// Not in the database file, its WAL or its shared memory, in any form.
	if _, err := st.DB().Exec(`PRAGMA wal_checkpoint(FULL)`); err != nil {
		t.Fatal(err)
	}
	path := dbtest.File(t, st.DB())
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secretKey)) || bytes.Contains(b, []byte("PLAINTEXT")) {
			t.Errorf("%s contains the plaintext key", filepath.Base(f))
		}
	}
	var stored string
	if err := st.DB().QueryRow(`SELECT encrypted_key FROM org_api_keys`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "v1:"+k.ID()+":") || strings.Contains(stored, secretKey) {
		t.Errorf("stored value = %q", stored)
	}

	// Not in JSON or fmt output of anything the store returns.
	views, err := st.ListOrgAPIKeyViews(ctx)
	must(t, err)
	var row db.OrgAPIKey
	must(t, st.ReadTx(ctx, func(q *db.Queries) (err error) { row, err = q.GetOrgAPIKey(ctx, orgdb.ProviderAnthropic); return err }))
	resolved, err := st.ResolveLLMKeys(ctx, func(string) string { return "" })
	must(t, err)
	for _, v := range []any{view, views, row, resolved, got} {
		b, err := json.Marshal(v)
		must(t, err)
		for _, s := range []string{string(b), fmt.Sprintf("%v %+v %#v", v, v, v)} {
			if strings.Contains(s, secretKey) {
				t.Errorf("%T leaks the key: %s", v, s)
			}
		}
	}
	if b, err := json.Marshal(row); err != nil || strings.Contains(string(b), stored) || strings.Contains(string(b), "encryptedKey") {
		t.Errorf("the model's JSON carries the sealed value: %s", b)
	}

	// Refusals: typed, nothing changes, and no key in the error text.
	before := dbtest.Snapshot(t, st.DB())
	for _, tc := range []struct {
		err  error
		code orgdb.Code
	}{
		{second(st.SetOrgAPIKey(ctx, store.ByUser(member.ID), orgdb.ProviderOpenAI, seal.NewSecret(secretKey))), orgdb.CodeForbidden},
		{second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), "mistral", seal.NewSecret(secretKey))), orgdb.CodeValidation},
		{second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret(" \n"))), orgdb.CodeValidation},
		{second(st.SetOrgAPIKey(ctx, store.ByUser(""), orgdb.ProviderOpenAI, seal.NewSecret(secretKey))), orgdb.CodeValidation},
		{second(st.OpenOrgAPIKey(ctx, orgdb.ProviderGoogle)), orgdb.CodeNotFound},
		{st.DeleteOrgAPIKey(ctx, asAdmin(t, st), orgdb.ProviderGoogle), orgdb.CodeNotFound},
	} {
		var e *orgdb.Error
		if !errors.As(tc.err, &e) || e.Code != tc.code || strings.Contains(tc.err.Error(), secretKey) {
			t.Errorf("err = %v, want %s", tc.err, tc.code)
		}
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused key operations changed the database")
	}
}

func TestOrgAPIKeyUpsertListDelete(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st := dbtest.New(t, store.WithSealingKey(newKey(t)), store.WithClock(c.now))
	ada := signup(t, st, "ada@acme.test")
	bob := signup(t, st, "bob@acme.test")
	must(t, second(st.UpdateUserRole(ctx, asAdmin(t, st), bob.ID, orgdb.RoleAdmin)))

	// No key stored: an empty list, [] in JSON (the client maps over it).
	views, err := st.ListOrgAPIKeyViews(ctx)
	if err != nil || len(views) != 0 {
		t.Fatalf("empty list = %+v, %v", views, err)
	}
	if b, err := json.Marshal(views); err != nil || string(b) != "[]" {
		t.Errorf("empty list JSON = %s, %v", b, err)
	}

	first, err := st.SetOrgAPIKey(ctx, store.ByUser(ada.ID), orgdb.ProviderOpenAI, seal.NewSecret("sk-one"))
	must(t, err)
	c.t = c.t.Add(time.Hour)
	second, err := st.SetOrgAPIKey(ctx, store.ByUser(bob.ID), orgdb.ProviderOpenAI, seal.NewSecret("sk-two"))
	if err != nil {
		t.Fatal(err)
	}
	if second.SetBy != bob.ID || second.ID != first.ID || !second.UpdatedAt.After(first.UpdatedAt.Time) || !second.CreatedAt.Equal(first.CreatedAt.Time) {
		t.Errorf("upsert: first %+v, second %+v", first, second)
	}
	if got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI); err != nil || got.Reveal() != "sk-two" {
		t.Error("upsert did not replace the key")
	}
	// Only the stored key is listed, with the row's id and every field
	// the client reads set.
	views, err = st.ListOrgAPIKeyViews(ctx)
	must(t, err)
	if len(views) != 1 || views[0].Provider != orgdb.ProviderOpenAI || !views[0].IsSet || views[0].ID != first.ID ||
		views[0].SetBy != bob.ID || views[0].CreatedAt.IsZero() || !views[0].UpdatedAt.Equal(second.UpdatedAt.Time) {
		t.Errorf("list = %+v", views)
	}
	var id string
	must(t, st.ReadDB().QueryRow(`SELECT id FROM org_api_keys WHERE provider = 'openai'`).Scan(&id))
	if views[0].ID != id {
		t.Errorf("view id %q, row id %q", views[0].ID, id)
	}
	if err := st.DeleteOrgAPIKey(ctx, asAdmin(t, st), orgdb.ProviderOpenAI); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestOrgAPIKeyOpenFailures(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	st := dbtest.New(t, store.WithSealingKey(k))
	admin := signup(t, st, "ada@acme.test")
	// Another store on the same file with another key, opened while no
	// key was stored (once one is, Open refuses another sealing key).
	other, err := store.Open(ctx, dbtest.File(t, st.DB()), store.WithSealingKey(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, other)
	must(t, second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret(secretKey))))
	must(t, second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderGoogle, seal.NewSecret("g-key"))))

	_, err = other.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI)
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonWrongKey)

	// A row moved onto another provider.
	exec(t, st.DB(), `UPDATE org_api_keys SET encrypted_key = (SELECT encrypted_key FROM org_api_keys WHERE provider = 'openai') WHERE provider = 'google'`)
	_, err = st.OpenOrgAPIKey(ctx, orgdb.ProviderGoogle)
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonTampered)
	// A tampered and a truncated value.
	exec(t, st.DB(), `UPDATE org_api_keys SET encrypted_key = substr(encrypted_key, 1, length(encrypted_key) - 6) WHERE provider = 'google'`)
	_, err = st.OpenOrgAPIKey(ctx, orgdb.ProviderGoogle)
	wantErr(t, err, orgdb.CodeEncryption, "")
	if strings.Contains(err.Error(), secretKey) {
		t.Error("error leaks the key")
	}

	// No sealing key configured: a clear error, never plaintext.
	bare, err := store.Open(ctx, dbtest.File(t, st.DB()))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, bare)
	_, err = bare.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI)
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonBadKey)
	_, err = bare.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret(secretKey))
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonBadKey)
	if _, err := store.Open(ctx, dbtest.Path(t), store.WithSealingKey(seal.Key{})); err == nil {
		t.Error("Open accepted the zero sealing key")
	}
}

func TestResolveLLMKeys(t *testing.T) {
	t.Parallel()
	// Every combination of org key set/unset and env var set/unset, for
	// every provider at once.
	for mask := range 1 << 6 {
		orgSet := func(i int) bool { return mask&(1<<i) != 0 }
		envSet := func(i int) bool { return mask&(1<<(3+i)) != 0 }
		st := dbtest.New(t, store.WithSealingKey(newKey(t)))
		admin := signup(t, st, "ada@acme.test")
		env := map[string]string{}
		for i, p := range orgdb.Providers() {
			if orgSet(i) {
				if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), p, seal.NewSecret("org-"+string(p))); err != nil {
					t.Fatal(err)
				}
			}
			if envSet(i) {
				env[p.EnvVar()] = "env-" + string(p)
			}
		}
		keys, err := st.ResolveLLMKeys(ctx, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range orgdb.Providers() {
			want, src := "", store.SourceNone
			switch {
			case orgSet(i):
				want, src = "org-"+string(p), store.SourceOrg
			case envSet(i):
				want, src = "env-"+string(p), store.SourceEnv
			}
			if keys[i].Provider != p || keys[i].Source != src || keys[i].Key.Reveal() != want {
				t.Errorf("mask %06b %s: source %s, key match %v", mask, p, keys[i].Source, keys[i].Key.Reveal() == want)
			}
		}
	}
	if v := orgdb.ProviderOpenAI.EnvVar(); v != "OPENAI_API_KEY" {
		t.Errorf("EnvVar = %s", v)
	}
}

func TestResolveLLMKeysNeverFallsBackOnBrokenOrgKey(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithSealingKey(newKey(t)))
	admin := signup(t, st, "ada@acme.test")
	must(t, second(st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret("org-key"))))
	exec(t, st.DB(), `UPDATE org_api_keys SET encrypted_key = encrypted_key || 'x'`)
	_, err := st.ResolveLLMKeys(ctx, func(string) string { return "env-key" })
	wantErr(t, err, orgdb.CodeEncryption, "")
}

func TestRotateSealingKey(t *testing.T) {
	t.Parallel()
	oldKey, newK := newKey(t), newKey(t)
	st := dbtest.New(t, store.WithSealingKey(oldKey))
	admin := signup(t, st, "ada@acme.test")
	for _, p := range orgdb.Providers() {
		if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), p, seal.NewSecret("key-"+string(p))); err != nil {
			t.Fatal(err)
		}
	}

	// One corrupt row: nothing changes, and the error names its provider.
	exec(t, st.DB(), `UPDATE org_api_keys SET encrypted_key = encrypted_key || 'A' WHERE provider = 'openai'`)
	before := dbtest.Snapshot(t, st.DB())
	_, err := st.RotateSealingKey(ctx, operator, oldKey, newK)
	wantErr(t, err, orgdb.CodeEncryption, "")
	if !strings.Contains(err.Error(), "openai") || !strings.Contains(err.Error(), "nothing changed") {
		t.Errorf("rotation error = %v", err)
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Fatal("a failed rotation changed the database")
	}

	// Repaired, the rotation re-seals all three in one go.
	if _, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderOpenAI, seal.NewSecret("key-openai")); err != nil {
		t.Fatal(err)
	}
	n, err := st.RotateSealingKey(ctx, operator, oldKey, newK)
	if err != nil || n != 3 {
		t.Fatalf("rotate = %d, %v", n, err)
	}
	rotated, err := store.Open(ctx, dbtest.File(t, st.DB()), store.WithSealingKey(newK))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, rotated)
	for _, p := range orgdb.Providers() {
		if got, err := rotated.OpenOrgAPIKey(ctx, p); err != nil || got.Reveal() != "key-"+string(p) {
			t.Errorf("%s after rotation: %v", p, err)
		}
		_, err := st.OpenOrgAPIKey(ctx, p) // still on the old key
		wantErr(t, err, orgdb.CodeEncryption, seal.ReasonWrongKey)
	}
	// Running it again is a no-op; the same key twice is refused.
	if n, err := st.RotateSealingKey(ctx, operator, oldKey, newK); err != nil || n != 0 {
		t.Errorf("second rotation = %d, %v", n, err)
	}
	_, err = st.RotateSealingKey(ctx, operator, newK, newK)
	wantErr(t, err, orgdb.CodeValidation, "")
}
