package store_test

// Passphrase sealing keys are derived with a salt of each database's own
// (migration 0011); values sealed under the fixed salt of older versions
// still open and move to the database's salt with a rotation.

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

const passphrase = "passphrase:correct horse battery staple"

func passphraseKey(t testing.TB) seal.Key {
	t.Helper()
	k, err := seal.ParseKey(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// kdfOf reads a database's derivation through its own connection.
func kdfOf(t testing.TB, d *sql.DB) (seal.KDF, db.SealingKDF) {
	t.Helper()
	row, err := db.New(d).GetSealingKDF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	salt, err := hex.DecodeString(row.Salt)
	if err != nil {
		t.Fatal(err)
	}
	return seal.KDF{Salt: salt, Iterations: int(row.Iterations)}, row
}

// derived is the key a passphrase gives with kdf, derived here, outside
// the store.
func derived(t testing.TB, kdf seal.KDF) seal.Key {
	t.Helper()
	k, err := passphraseKey(t).Derive(kdf)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSamePassphraseDifferentDatabasesDifferentKeys(t *testing.T) {
	t.Parallel()
	var salts, ids []string
	for range 2 {
		st := dbtest.New(t, store.WithSealingKey(passphraseKey(t)))
		admin := signup(t, st, "ada@acme.test")
		v, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, seal.NewSecret("sk-ant-1"))
		if err != nil {
			t.Fatal(err)
		}
		id, ok, err := st.SealingKeyID(ctx)
		if err != nil || !ok || id != v.SealedWith {
			t.Fatalf("recorded key %q %v %v, sealed with %q", id, ok, err, v.SealedWith)
		}
		kdf, row := kdfOf(t, st.DB())
		if len(kdf.Salt) != seal.MinSaltSize || kdf.Iterations != seal.PassphraseIterations || row.Algorithm != "pbkdf2-sha256" {
			t.Fatalf("derivation recorded = %+v", row)
		}
		// The store's key is the passphrase with this database's salt,
		// not with the fixed one.
		if want := derived(t, kdf).ID(); id != want {
			t.Errorf("recorded key %s, want the passphrase with the database's salt, %s", id, want)
		}
		got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderAnthropic)
		if err != nil || got.Reveal() != "sk-ant-1" {
			t.Fatalf("OpenOrgAPIKey = %v", err)
		}
		salts, ids = append(salts, row.Salt), append(ids, id)
	}
	if salts[0] == salts[1] || ids[0] == ids[1] {
		t.Errorf("two databases with one passphrase: salts %q, key ids %q; want both different", salts, ids)
	}
	if fixed := derivedFixed(t); slices.Contains(ids, fixed.ID()) {
		t.Errorf("a key id is the fixed salt's %s", fixed.ID())
	}
}

// derivedFixed is the key older versions derived from the passphrase: the
// standard library's PBKDF2 with the fixed salt, not seal's code.
func derivedFixed(t testing.TB) seal.Key {
	t.Helper()
	b, err := pbkdf2.Key(sha256.New, strings.TrimPrefix(passphrase, seal.PassphrasePrefix), []byte("orgdb sealing key v1"), 600_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// legacyDB builds the database the landed main wrote: migrated to 0010,
// an admin, and one org API key sealed with the passphrase and the fixed
// salt (sealed by seal's Seal with the key main derived). It returns the
// path and the sealed value.
func legacyDB(t *testing.T) (path, sealed string) {
	t.Helper()
	path = dbtest.Path(t)
	must(t, privfile.EnsureFile(path)) // main made it 0644: here, the operator fixed that
	raw := dbtest.Raw(t, path)
	if _, err := schema.Migrate(ctx, raw, schema.UpTo(schema.FS(), 10)); err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `INSERT INTO users (id, email, role) VALUES ('u1', 'ada@acme.test', 'admin')`)
	sealed, err := derivedFixed(t).Seal(orgdb.ProviderOpenAI, seal.NewSecret("sk-openai-legacy"))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k1', 'openai', ?, 'u1')`, sealed)
	return path, sealed
}

// snapshotExcept is dbtest.Snapshot with the named columns left out.
func snapshotExcept(t *testing.T, d *sql.DB, skip map[string][]string) string {
	t.Helper()
	var b strings.Builder
	for _, n := range dbtest.Strings(t, d, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`) {
		cols, rows := dbtest.Rows(t, d, `SELECT * FROM "`+n+`"`)
		fmt.Fprintf(&b, "== %s\n", n)
		for _, r := range rows {
			for i, c := range cols {
				if !slices.Contains(skip[n], c) {
					fmt.Fprintf(&b, "%s=%#v ", c, r[i])
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestFixedSaltValuesOpenAndRotateToTheDatabaseSalt(t *testing.T) {
	t.Parallel()
	path, sealedBefore := legacyDB(t)
	fixed := derivedFixed(t)

	var logs bytes.Buffer
	st, err := store.Open(ctx, path, store.WithSealingKey(passphraseKey(t)), store.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatalf("opening main's database with its passphrase: %v", err)
	}
	closeStore(t, st)
	got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI)
	if err != nil || got.Reveal() != "sk-openai-legacy" {
		t.Fatalf("the value sealed under the fixed salt does not open: %v", err)
	}
	keys, err := st.ResolveLLMKeys(ctx, func(string) string { return "" })
	if err != nil || keys[slices.IndexFunc(keys, func(k store.LLMKey) bool { return k.Provider == orgdb.ProviderOpenAI })].Key.Reveal() != "sk-openai-legacy" {
		t.Fatalf("ResolveLLMKeys: %v", err)
	}
	if !strings.Contains(logs.String(), "fixed salt") || !strings.Contains(logs.String(), "orgdb keys rotate") || strings.Count(logs.String(), "level=WARN") != 1 {
		t.Errorf("Open logged %q, want one warning naming the fixed salt and keys rotate", logs.String())
	}
	if strings.Contains(logs.String(), "horse") {
		t.Errorf("the log holds the passphrase: %s", logs.String())
	}
	state, err := st.SealingState(ctx)
	if err != nil || !state.FixedSaltPossible || state.KeyID != fixed.ID() {
		t.Fatalf("SealingState = %+v, %v; want the fixed salt possible under %s", state, err, fixed.ID())
	}

	// Rotating from the passphrase to itself moves the value to the
	// database's salt, and changes nothing else.
	skip := map[string][]string{"org_api_keys": {"encrypted_key"}, "sealing_key": {"key_id", "updated_at"}}
	before := snapshotExcept(t, st.DB(), skip)
	n, err := st.RotateSealingKey(ctx, operator, passphraseKey(t), passphraseKey(t))
	if err != nil || n != 1 {
		t.Fatalf("rotate = %d, %v", n, err)
	}
	if after := snapshotExcept(t, st.DB(), skip); after != before {
		t.Errorf("the rotation changed more than the sealed value and the record:\nbefore %s\nafter  %s", before, after)
	}
	kdf, _ := kdfOf(t, st.DB())
	salted := derived(t, kdf)
	var sealedAfter string
	must(t, st.DB().QueryRow(`SELECT encrypted_key FROM org_api_keys WHERE id = 'k1'`).Scan(&sealedAfter))
	if id, _ := seal.SealedKeyID(sealedAfter); id != salted.ID() || sealedAfter == sealedBefore {
		t.Fatalf("after the rotation the value is sealed with %s, want the database's salt's key %s", id, salted.ID())
	}
	if plain, err := salted.Open(orgdb.ProviderOpenAI, sealedAfter); err != nil || plain.Reveal() != "sk-openai-legacy" {
		t.Fatalf("the database's salt's key does not open the re-sealed value: %v", err)
	}
	if _, err := fixed.Open(orgdb.ProviderOpenAI, sealedAfter); err == nil {
		t.Fatal("the fixed salt's key still opens the value")
	}
	if id, _, _ := st.SealingKeyID(ctx); id != salted.ID() {
		t.Errorf("recorded key %s, want %s", id, salted.ID())
	}
	if state, _ := st.SealingState(ctx); state.FixedSaltPossible {
		t.Error("SealingState still says the fixed salt may be in use")
	}
	// Run again: nothing to rotate.
	_, err = st.RotateSealingKey(ctx, operator, passphraseKey(t), passphraseKey(t))
	wantErr(t, err, orgdb.CodeValidation, "")

	// Reopened with the passphrase: no warning, the key opens.
	logs.Reset()
	st2, err := store.Open(ctx, path, store.WithSealingKey(passphraseKey(t)), store.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, st2)
	if got, err := st2.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI); err != nil || got.Reveal() != "sk-openai-legacy" {
		t.Fatalf("after the rotation: %v", err)
	}
	if logs.Len() != 0 {
		t.Errorf("reopening logged %q", logs.String())
	}
}

// Setting a key on a database whose keys use the fixed salt moves them to
// the database's salt in the same transaction: nothing new is sealed with
// the fixed salt, and every value keeps one key.
func TestSetOrgAPIKeyMovesFixedSaltValues(t *testing.T) {
	t.Parallel()
	path, _ := legacyDB(t)
	st, err := store.Open(ctx, path, store.WithSealingKey(passphraseKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, st)
	v, err := st.SetOrgAPIKey(ctx, store.ByUser("u1"), orgdb.ProviderGoogle, seal.NewSecret("sk-google"))
	if err != nil {
		t.Fatal(err)
	}
	kdf, _ := kdfOf(t, st.DB())
	want := derived(t, kdf).ID()
	ids := dbtest.Strings(t, st.DB(), `SELECT substr(encrypted_key, 4, 8) FROM org_api_keys ORDER BY provider`)
	if v.SealedWith != want || len(ids) != 2 || ids[0] != want || ids[1] != want {
		t.Fatalf("sealed with %s, stored under %q; want all under %s", v.SealedWith, ids, want)
	}
	for p, plain := range map[orgdb.Provider]string{orgdb.ProviderOpenAI: "sk-openai-legacy", orgdb.ProviderGoogle: "sk-google"} {
		if got, err := st.OpenOrgAPIKey(ctx, p); err != nil || got.Reveal() != plain {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// A wrong passphrase on a database of either scheme is refused naming
// the recorded key, never the passphrase.
func TestWrongPassphraseRefused(t *testing.T) {
	t.Parallel()
	path, _ := legacyDB(t)
	other, err := seal.ParseKey("passphrase:another passphrase entirely")
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, path, store.WithSealingKey(other))
	wantErr(t, err, orgdb.CodeEncryption, seal.ReasonWrongKey)
	if !strings.Contains(err.Error(), derivedFixed(t).ID()) || strings.Contains(fmt.Sprintf("%v %+v", err, err), "entirely") {
		t.Errorf("refusal %v", err)
	}
}

// The salt row never changes once chosen.
func TestSaltIsChosenOnce(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	before := dbtest.Snapshot(t, st.DB())
	for _, q := range []string{
		`UPDATE sealing_kdf SET salt = '00000000000000000000000000000000'`,
		`UPDATE sealing_kdf SET iterations = 600001`,
		`DELETE FROM sealing_kdf`,
		`INSERT INTO sealing_kdf (id, salt, iterations) VALUES ('other', '00000000000000000000000000000000', 600000)`,
		`INSERT INTO sealing_kdf (id, salt, iterations) VALUES ('default', '00000000000000000000000000000000', 600000)`,
	} {
		if _, err := st.DB().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("a refused statement changed the database")
	}
}

// Many goroutines opening one new file with the same passphrase, each
// setting a key: one salt, one key id, every value opens.
func TestRaceFirstOpensChooseOneSalt(t *testing.T) {
	t.Parallel()
	const n = 6
	path := dbtest.Path(t)
	stores := make([]*store.Store, n)
	var mu sync.Mutex
	errs := together(n, func(i int) error {
		st, err := store.Open(ctx, path, store.WithSealingKey(passphraseKey(t)))
		if err != nil {
			return err
		}
		mu.Lock()
		stores[i] = st
		mu.Unlock()
		return nil
	})
	for _, st := range stores {
		if st != nil {
			closeStore(t, st)
		}
	}
	for _, err := range errs {
		must(t, err)
	}
	admin := signup(t, stores[0], "ada@acme.test")
	providers := orgdb.Providers()
	errs = together(n, func(i int) error {
		_, err := stores[i].SetOrgAPIKey(ctx, store.ByUser(admin.ID), providers[i%len(providers)], seal.NewSecret(fmt.Sprintf("sk-%d", i)))
		return err
	})
	for _, err := range errs {
		must(t, err)
	}
	if c := count(t, path, `SELECT COUNT(*) FROM sealing_kdf`); c != 1 {
		t.Fatalf("%d salt rows", c)
	}
	kdf, _ := kdfOf(t, stores[0].DB())
	want := derived(t, kdf).ID()
	if ids := dbtest.Strings(t, stores[0].DB(), `SELECT DISTINCT substr(encrypted_key, 4, 8) FROM org_api_keys`); len(ids) != 1 || ids[0] != want {
		t.Fatalf("values sealed under %q, want only %s", ids, want)
	}
	for i, st := range stores {
		for _, p := range providers {
			if _, err := st.OpenOrgAPIKey(ctx, p); err != nil {
				t.Errorf("store %d, %s: %v", i, p, err)
			}
		}
	}
}

// saltChildEnv, when set to a database path, makes TestSaltChild open it
// with the passphrase, set the key of the provider in saltProviderEnv
// and print the salt and the key id it sealed with.
const (
	saltChildEnv    = "ORGDB_SALT_CHILD"
	saltProviderEnv = "ORGDB_SALT_PROVIDER"
)

// TestSaltChild is the child of TestProcessesChooseOneSalt; run alone it
// does nothing.
func TestSaltChild(t *testing.T) {
	path := os.Getenv(saltChildEnv)
	if path == "" {
		t.Skip("the child of TestProcessesChooseOneSalt")
	}
	st, err := store.Open(ctx, path, store.WithSealingKey(passphraseKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := st.SetOrgAPIKey(ctx, store.ByUser("u1"), orgdb.Provider(os.Getenv(saltProviderEnv)), seal.NewSecret("sk-"+os.Getenv(saltProviderEnv)))
	if err != nil {
		t.Fatal(err)
	}
	_, row := kdfOf(t, st.DB())
	fmt.Printf("RESULT %s %s\n", row.Salt, v.SealedWith)
}

// Several processes opening one new file at once with the same
// passphrase: one salt, one key id.
func TestProcessesChooseOneSalt(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	// The admin the children set keys for, in a file that has no salt yet.
	must(t, privfile.EnsureFile(path))
	raw := dbtest.Raw(t, path)
	if _, err := schema.Migrate(ctx, raw, schema.UpTo(schema.FS(), 10)); err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `INSERT INTO users (id, email, role) VALUES ('u1', 'ada@acme.test', 'admin')`)
	must(t, raw.Close())
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	providers := orgdb.Providers()
	outs := make([][]byte, 2*len(providers))
	errs := together(len(outs), func(i int) error {
		cmd := osexec.Command(exe, "-test.run=^TestSaltChild$", "-test.v")
		cmd.Env = append(os.Environ(), saltChildEnv+"="+path, saltProviderEnv+"="+string(providers[i%len(providers)]))
		var err error
		outs[i], err = cmd.CombinedOutput()
		return err
	})
	results := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
		_, line, ok := strings.Cut(string(outs[i]), "RESULT ")
		if !ok {
			t.Fatalf("child %d reported nothing:\n%s", i, outs[i])
		}
		line, _, _ = strings.Cut(line, "\n")
		results[line] = true
	}
	if len(results) != 1 {
		t.Fatalf("the processes saw %d different salts or keys: %v", len(results), results)
	}
	if c := count(t, path, `SELECT COUNT(*) FROM sealing_kdf`); c != 1 {
		t.Fatalf("%d salt rows", c)
	}
}
