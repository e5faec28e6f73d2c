package orgdb_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

var ctx = context.Background()

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, d *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := d.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// queries returns the generated queries on st's writer pool, unprepared,
// for reading what the store has no method for.
func queries(st *store.Store) *db.Queries { return db.New(st.DB()) }

// testKeyID is the sealing key id the raw org API key rows of these tests
// claim to be sealed with; the database refuses any other than the
// recorded one.
const testKeyID = "0a0b0c0d"

// addOrgKey stores a raw org API key row whose value has the header of
// testKeyID (the first one records that key).
func addOrgKey(t *testing.T, st *store.Store, id string, provider orgdb.Provider, body string) {
	t.Helper()
	mustExec(t, st.DB(), `INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES (?, ?, ?, 'u1')`,
		id, provider, "v1:"+testKeyID+":"+body)
}

// operator is the actor of the tests' raw writes.
var operator = store.Operator("orgdb tests")

// inTx runs fn on the generated queries in one write transaction, failing
// the test on an error.
func inTx(t *testing.T, st *store.Store, fn func(q *db.Queries) error) {
	t.Helper()
	if err := st.Tx(ctx, operator, store.OperatorOnly, fn); err != nil {
		t.Fatal(err)
	}
}

func addUser(t *testing.T, st *store.Store, id, email string, role orgdb.UserRole) db.User {
	t.Helper()
	var u db.User
	inTx(t, st, func(q *db.Queries) (err error) {
		u, err = q.InsertUser(ctx, db.InsertUserParams{ID: id, Email: email, Role: role})
		return err
	})
	return u
}

// addInvite stores an invite as given, bypassing CreateInvite's policy.
func addInvite(t *testing.T, st *store.Store, p db.UpsertInviteParams) {
	t.Helper()
	inTx(t, st, func(q *db.Queries) error {
		_, err := q.UpsertInvite(ctx, p)
		return err
	})
}

// scan runs a one-row query on the writer and scans it, failing the test
// on an error.
func scan(t *testing.T, st *store.Store, query string, dest ...any) {
	t.Helper()
	if err := st.DB().QueryRow(query).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestTypesRoundTripThroughDatabase(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	name := "Ada"
	var u db.User
	inTx(t, st, func(q *db.Queries) (err error) {
		u, err = q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "ada@acme.test", Name: &name, Role: orgdb.RoleAdmin})
		return err
	})
	got, err := st.GetUser(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != orgdb.RoleAdmin || got.Name == nil || *got.Name != "Ada" || got.AvatarURL != nil ||
		got.CreatedAt.IsZero() || !got.CreatedAt.Equal(u.CreatedAt.Time) || time.Since(got.CreatedAt.Time) > time.Minute {
		t.Errorf("user = %+v", got)
	}

	// Time keeps nanoseconds; *Time keeps nil and non-nil.
	exp := orgdb.NewTime(time.Date(2026, 12, 5, 9, 30, 1, 123456789, time.UTC))
	addInvite(t, st, db.UpsertInviteParams{ID: "i1", Email: "bob@acme.test", Role: orgdb.RoleMember, InvitedBy: "u1", ExpiresAt: exp, CreatedAt: st.Now()})
	invs, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	if err != nil || len(invs) != 1 || !invs[0].ExpiresAt.Equal(exp.Time) || invs[0].AcceptedAt != nil || invs[0].Role != orgdb.RoleMember {
		t.Fatalf("invites = %+v, %v", invs, err)
	}
	acc := orgdb.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	mustExec(t, st.DB(), `UPDATE invites SET accepted_at = ? WHERE id = 'i1'`, &acc)
	if invs, err = st.ListInvites(ctx, store.ListInvitesOptions{}); err != nil {
		t.Fatal(err)
	}
	if invs[0].AcceptedAt == nil || !invs[0].AcceptedAt.Equal(acc.Time) {
		t.Errorf("accepted_at = %v", invs[0].AcceptedAt)
	}
	var raw string
	scan(t, st, `SELECT expires_at || '|' || accepted_at FROM invites`, &raw)
	if raw != "2026-12-05 09:30:01.123456789|2026-12-01 00:00:00" {
		t.Errorf("stored text = %q", raw)
	}

	// Bool, EmailList, *string through org_settings.
	domain := "acme.test"
	mustExec(t, st.DB(), `UPDATE org_settings SET allowed_email_domain = ?, allowed_emails = ?, domain_gating_enabled = ?, email_allowlist_enabled = ?`,
		&domain, orgdb.NewEmailList("Eve@acme.test", "bob@acme.test"), true, false)
	s, err := queries(st).GetOrgSettings(ctx)
	if err != nil || !s.DomainGatingEnabled || s.EmailAllowlistEnabled || *s.AllowedEmailDomain != "acme.test" ||
		!slices.Equal(s.AllowedEmails, orgdb.EmailList{"eve@acme.test", "bob@acme.test"}) {
		t.Errorf("settings = %+v, %v", s, err)
	}
	mustExec(t, st.DB(), `UPDATE org_settings SET domain_gating_enabled = false, allowed_emails = NULL, allowed_email_domain = NULL`)
	s, err = queries(st).GetOrgSettings(ctx)
	if err != nil || s.DomainGatingEnabled || len(s.AllowedEmails) != 0 || s.AllowedEmailDomain != nil {
		t.Errorf("settings with NULLs = %+v, %v", s, err)
	}

	// Provider, IntegrationScope, *Time on the other tables.
	synced := orgdb.NewTime(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC))
	addOrgKey(t, st, "k1", orgdb.ProviderAnthropic, "sealed")
	mustExec(t, st.DB(), `INSERT INTO integrations (id, user_id, service, scope, last_synced_at) VALUES ('g1', 'u1', 'github', ?, ?)`, orgdb.ScopeOrg, synced)
	var keys []db.ListOrgAPIKeysRow
	if err := st.ReadTx(ctx, func(q *db.Queries) (err error) { keys, err = q.ListOrgAPIKeys(ctx); return err }); err != nil || len(keys) != 1 || keys[0].Provider != orgdb.ProviderAnthropic {
		t.Errorf("keys = %+v, %v", keys, err)
	}
	its, err := queries(st).ListIntegrationsForUser(ctx, "someone-else")
	if err != nil || len(its) != 1 || its[0].Scope != orgdb.ScopeOrg || its[0].LastSyncedAt == nil || !its[0].LastSyncedAt.Equal(synced.Time) {
		t.Errorf("integrations = %+v, %v", its, err)
	}
}

// dropTriggers removes the 0007 triggers, standing in for a database
// written by a tool that bypassed them (or before they existed).
func dropTriggers(t *testing.T, d *sql.DB) {
	t.Helper()
	for _, n := range dbtest.Strings(t, d, `SELECT name FROM sqlite_master WHERE type = 'trigger'`) {
		mustExec(t, d, `DROP TRIGGER `+n)
	}
}

func TestInvalidStoredValuesAreErrors(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	addUser(t, st, "u1", "ada@acme.test", orgdb.RoleMember)
	addOrgKey(t, st, "k1", orgdb.ProviderOpenAI, "x")
	mustExec(t, st.DB(), `INSERT INTO integrations (id, user_id, service) VALUES ('g1', 'u1', 'github')`)
	dropTriggers(t, st.DB())

	tests := []struct {
		name, corrupt string
		read          func() error
	}{
		{"unknown role", `UPDATE users SET role = 'owner'`, func() error { _, err := st.GetUser(ctx, "u1"); return err }},
		{"role in other case", `UPDATE users SET role = 'ADMIN'`, func() error { _, err := st.ListUsers(ctx, store.ListUsersOptions{}); return err }},
		{"unknown scope", `UPDATE integrations SET scope = 'team'`, func() error {
			// ListIntegrationsForUser filters on the two scopes, so read the column directly.
			var s orgdb.IntegrationScope
			return st.DB().QueryRow(`SELECT scope FROM integrations`).Scan(&s)
		}},
		{"unknown provider", `UPDATE org_api_keys SET provider = 'mistral'`, func() error { _, err := st.ListOrgAPIKeyViews(ctx); return err }},
		{"unparseable timestamp", `UPDATE users SET created_at = 'yesterday'`, func() error { _, err := st.GetUser(ctx, "u1"); return err }},
		{"flag out of range", `PRAGMA ignore_check_constraints = ON; UPDATE org_settings SET domain_gating_enabled = 2; PRAGMA ignore_check_constraints = OFF`,
			func() error { _, err := queries(st).GetOrgSettings(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustExec(t, st.DB(), `UPDATE users SET role = 'member', created_at = datetime('now')`)
			mustExec(t, st.DB(), `UPDATE integrations SET scope = 'user'`)
			mustExec(t, st.DB(), `UPDATE org_api_keys SET provider = 'openai'`)
			mustExec(t, st.DB(), `UPDATE org_settings SET domain_gating_enabled = 0`)
			if err := tt.read(); err != nil {
				t.Fatalf("clean read: %v", err)
			}
			mustExec(t, st.DB(), tt.corrupt)
			if err := tt.read(); err == nil {
				t.Error("corrupt value read without error")
			}
		})
	}
	// An unknown role is never mistaken for admin: the scanned value is not
	// returned at all.
	mustExec(t, st.DB(), `UPDATE users SET role = 'owner', created_at = datetime('now')`)
	if u, err := queries(st).GetUser(ctx, "u1"); err == nil || u.Role == orgdb.RoleAdmin {
		t.Errorf("GetUser with role owner = %+v, %v", u, err)
	}
}

// The RFC 3339 trap: '2026-11-28T10:00:00Z' sorts after '2026-11-28
// 15:00:00' because 'T' > ' ', so an invite that expired this morning
// would look valid all day. Through orgdb it cannot happen.
func TestInviteExpiredEarlierTodayIsNotValid(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	st := dbtest.New(t, store.WithClock(func() time.Time { return now }))
	addUser(t, st, "u1", "ada@acme.test", orgdb.RoleAdmin)

	var trap bool
	scan(t, st, `SELECT '2026-11-28T10:00:00Z' > '2026-11-28 15:00:00'`, &trap)
	if !trap {
		t.Fatal("the text-comparison trap this test guards against does not exist")
	}

	for id, exp := range map[string]time.Time{
		"expired-this-morning":    time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		"expired-a-second-ago":    now.Add(-time.Second),
		"expired-in-another-zone": time.Date(2026, 11, 28, 16, 0, 0, 0, time.FixedZone("CET", 3600)).Add(-2 * time.Hour),
		"valid-tonight":           time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC),
	} {
		addInvite(t, st, db.UpsertInviteParams{ID: id, Email: id + "@acme.test", Role: orgdb.RoleMember,
			InvitedBy: "u1", ExpiresAt: orgdb.NewTime(exp), CreatedAt: orgdb.NewTime(now)})
	}
	for _, id := range []string{"expired-this-morning", "expired-a-second-ago", "expired-in-another-zone"} {
		inv, err := st.ValidInvite(ctx, id+"@acme.test")
		if !errors.Is(err, orgdb.ErrNotFound) {
			t.Errorf("%s returned as valid: %+v, %v", id, inv, err)
		}
	}
	if _, err := st.ValidInvite(ctx, "valid-tonight@acme.test"); err != nil {
		t.Errorf("valid invite not found: %v", err)
	}

	// Against the database's own clock too: an invite that expired an hour
	// ago compares as past against datetime('now').
	var later bool
	if err := st.DB().QueryRow(`SELECT ? > datetime('now')`, orgdb.NewTime(time.Now().Add(-time.Hour))).Scan(&later); err != nil || later {
		t.Errorf("an hour ago compares as later than datetime('now'): %v", err)
	}

	// Any other writer that tries to store the trap is refused by the
	// database, and the error is a validation error.
	before := dbtest.Snapshot(t, st.DB())
	for _, q := range []string{
		`INSERT INTO invites (id, email, role, invited_by, expires_at) VALUES ('x', 'x@acme.test', 'member', 'u1', '2026-11-28T10:00:00Z')`,
		`INSERT INTO invites (id, email, role, invited_by, expires_at) VALUES ('x', 'x@acme.test', 'member', 'u1', '2026-11-28 10:00:00+01:00')`,
		`UPDATE invites SET expires_at = '2026-11-28T10:00:00.000Z'`,
		`UPDATE invites SET accepted_at = '2026-11-28T10:00:00Z'`,
		`UPDATE invites SET expires_at = 'tomorrow'`,
	} {
		_, err := st.DB().Exec(q)
		if err = store.Translate(err, "invite"); !errors.Is(err, orgdb.ErrValidation) {
			t.Errorf("%s: err = %v, want a validation error", q, err)
		}
	}
	if after := dbtest.Snapshot(t, st.DB()); after != before {
		t.Error("refused writes changed the database")
	}
}

// Text order of the canonical layout is time order, also across precisions.
func TestTimeTextOrderIsTimeOrder(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	base := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	ts := []time.Time{base, base.Add(time.Nanosecond), base.Add(5 * time.Millisecond), base.Add(500 * time.Millisecond),
		base.Add(time.Second), base.Add(12 * time.Hour), base.Add(-time.Nanosecond), base.AddDate(0, 0, 1)}
	for _, a := range ts {
		for _, b := range ts {
			var gt bool
			if err := st.DB().QueryRow(`SELECT ? > ?`, orgdb.NewTime(a), orgdb.NewTime(b)).Scan(&gt); err != nil {
				t.Fatal(err)
			}
			if gt != a.After(b) {
				t.Errorf("%v > %v as text = %v", a, b, gt)
			}
		}
	}
}

// Migration 0007 rewrites expiry values that an older writer stored as
// RFC 3339, so they compare correctly from then on.
func TestMigration0007NormalizesStoredExpiry(t *testing.T) {
	t.Parallel()
	upTo6 := fstest.MapFS{}
	all, err := fs.Glob(schema.FS(), "*.sql")
	must(t, err)
	for _, name := range all {
		if name < "0007" {
			b, err := fs.ReadFile(schema.FS(), name)
			must(t, err)
			upTo6[name] = &fstest.MapFile{Data: b}
		}
	}
	d := dbtest.Raw(t, dbtest.Path(t))
	if _, err := schema.Migrate(ctx, d, upTo6); err != nil {
		t.Fatal(err)
	}
	mustExec(t, d, `INSERT INTO users (id, email) VALUES ('u1', 'ada@acme.test')`)
	mustExec(t, d, `UPDATE org_settings SET name = 'Acme', domain_gating_enabled = NULL, email_allowlist_enabled = 7, allowed_emails = 'a@acme.test'`)
	mustExec(t, d, `INSERT INTO invites (id, email, invited_by, expires_at, accepted_at) VALUES
	  ('a', 'a@acme.test', 'u1', '2026-11-28T10:00:00.000Z', NULL),
	  ('b', 'b@acme.test', 'u1', '2026-11-28T12:00:00+02:00', '2026-11-27T09:00:00Z'),
	  ('c', 'c@acme.test', 'u1', '2026-11-28 10:00:00', NULL)`)
	if _, err := schema.Migrate(ctx, d, schema.FS()); err != nil {
		t.Fatal(err)
	}
	got := dbtest.Strings(t, d, `SELECT id || '|' || expires_at || '|' || coalesce(accepted_at, '') FROM invites ORDER BY id`)
	want := []string{"a|2026-11-28 10:00:00.000|", "b|2026-11-28 10:00:00.000|2026-11-27 09:00:00.000", "c|2026-11-28 10:00:00|"}
	if !slices.Equal(got, want) {
		t.Errorf("after 0007:\n%q\nwant\n%q", got, want)
	}
	// The settings row survives the rebuild; its flags become 0/1.
	var settings string
	if err := d.QueryRow(`SELECT name || '|' || domain_gating_enabled || '|' || email_allowlist_enabled || '|' || allowed_emails FROM org_settings`).Scan(&settings); err != nil {
		t.Fatal(err)
	}
	if settings != "Acme|0|1|a@acme.test" {
		t.Errorf("org_settings after 0007 = %q", settings)
	}
}

func jsonKeys(t *testing.T, v any) (map[string]any, []string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, slices.Sorted(maps.Keys(m))
}

// camel is sqlc's JSON name of a column (json_tags_case_style: camel).
func camel(column string) string {
	parts := strings.Split(column, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// jsonFields returns the JSON names of t's exported fields by
// encoding/json's rules, and the Go names of those tagged "-".
func jsonFields(t reflect.Type) (names []string, hidden []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch tag {
		case "-":
			hidden = append(hidden, f.Name)
		case "":
			names = append(names, f.Name)
		default:
			names = append(names, tag)
		}
	}
	slices.Sort(names)
	return names, hidden
}

// omitted reports whether encoding/json leaves out the field of struct v
// whose JSON name is key: it is tagged omitempty and empty.
func omitted(v reflect.Value, key string) bool {
	for i := range v.NumField() {
		tag := strings.Split(v.Type().Field(i).Tag.Get("json"), ",")
		if tag[0] == key && slices.Contains(tag[1:], "omitempty") {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.Pointer, reflect.Interface:
				return f.IsNil()
			case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
				return f.Len() == 0
			case reflect.Struct:
				return false
			}
			return f.IsZero()
		}
	}
	return false
}

// TestModelJSON checks the JSON of a model or row of every table, as the
// queries return them, against the generated types and the migrated
// catalog: nothing here restates a column or a key.
func TestModelJSON(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	addUser(t, st, "u1", "ada@acme.test", orgdb.RoleAdmin)
	addInvite(t, st, db.UpsertInviteParams{ID: "i1", Email: "bob@acme.test", Role: orgdb.RoleMember, InvitedBy: "u1",
		ExpiresAt: orgdb.NewTime(time.Now().Add(time.Hour)), CreatedAt: st.Now()})
	const secret = "sealed-v1-SECRET-MATERIAL"
	addOrgKey(t, st, "k1", orgdb.ProviderOpenAI, secret)
	mustExec(t, st.DB(), `INSERT INTO integrations (id, user_id, service) VALUES ('g1', 'u1', 'github')`)

	user, err := st.GetUser(ctx, "u1")
	must(t, err)
	invs, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	must(t, err)
	settings, err := st.GetOrgSettings(ctx)
	must(t, err)
	var key db.OrgAPIKey
	must(t, st.ReadTx(ctx, func(q *db.Queries) (err error) { key, err = q.GetOrgAPIKey(ctx, orgdb.ProviderOpenAI); return err }))
	keys, err := st.ListOrgAPIKeyViews(ctx)
	must(t, err)
	its, err := st.ListIntegrationsForUser(ctx, "u1")
	must(t, err)
	inviteModel, err := st.GetInvite(ctx, "i1")
	must(t, err)
	var sealingKey db.SealingKey
	must(t, st.ReadTx(ctx, func(q *db.Queries) (err error) { sealingKey, err = q.GetSealingKey(ctx); return err }))
	var sealingKDF db.SealingKDF
	must(t, st.ReadTx(ctx, func(q *db.Queries) (err error) { sealingKDF, err = q.GetSealingKDF(ctx); return err }))
	if len(invs) != 1 || len(keys) == 0 || len(its) != 1 || inviteModel.ID != "i1" || !strings.HasSuffix(key.EncryptedKey, secret) {
		t.Fatal("fixtures missing")
	}
	set := slices.IndexFunc(keys, func(v store.OrgAPIKeyView) bool { return v.IsSet })
	if set < 0 {
		t.Fatal("no key view is set")
	}
	mustExec(t, st.DB(), `INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, last_used_at, expires_at, revoked_at)
		VALUES ('t1', 'u1', 'web', '`+strings.Repeat("ab", 32)+`', 'orgdb_abcdef', datetime('now'), datetime('now'), datetime('now'))`)
	var token db.APIToken
	must(t, st.ReadTx(ctx, func(q *db.Queries) (err error) { token, err = q.GetAPIToken(ctx, "t1"); return err }))
	values := []any{user, invs[0], inviteModel, settings, key, keys[set], its[0], sealingKey, sealingKDF, token}

	// Each value's JSON has exactly the keys its type declares, camelCase,
	// with no sql.Null* wrapper and never the sealed key.
	keysSeen := map[string]bool{}
	hiddenSeen := map[string]bool{}
	for _, v := range values {
		want, hidden := jsonFields(reflect.TypeOf(v))
		m, got := jsonKeys(t, v)
		for _, k := range want {
			keysSeen[k] = true
		}
		want = slices.DeleteFunc(want, func(k string) bool { return omitted(reflect.ValueOf(v), k) })
		if !slices.Equal(got, want) {
			t.Errorf("%T JSON keys:\n got %v\nwant %v (its fields' json tags, empty omitempty fields left out)", v, got, want)
		}
		for _, k := range got {
			// The fixtures leave every nullable column NULL: unset is
			// absent, never null (the web client declares it optional).
			if m[k] == nil {
				t.Errorf("%T JSON %q is null; an unset optional field must be left out (omitempty)", v, k)
			}
			if k != camel(k) || strings.ContainsAny(k[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Errorf("%T JSON key %q is not camelCase", v, k)
			}
			if obj, ok := m[k].(map[string]any); ok && (obj["Valid"] != nil || obj["String"] != nil) {
				t.Errorf("%T.%s is a sql.Null* wrapper in JSON: %v", v, k, obj)
			}
		}
		for _, h := range hidden {
			hiddenSeen[camel(strings.ToLower(h[:1])+h[1:])] = true
		}
		b, err := json.Marshal(v)
		must(t, err)
		if strings.Contains(string(b), secret) {
			t.Errorf("%T JSON leaks the sealed key: %s", v, b)
		}
	}
	// Every column of every table a query returns reaches the JSON under
	// its camelCase name, unless its field is deliberately hidden
	// (json:"-"). A new table no query returns yet is not served: it is
	// checked once a query returns it.
	served := returnedKeys()
	for table, cols := range dbtest.Tables(t, st.DB()) {
		if !slices.ContainsFunc(served, func(keys map[string]bool) bool {
			return !slices.ContainsFunc(cols, func(c dbtest.Column) bool { return !keys[camel(c.Name)] })
		}) {
			continue
		}
		for _, c := range cols {
			if k := camel(c.Name); !keysSeen[k] && !hiddenSeen[k] {
				t.Errorf("column %s.%s: no JSON key %q in any model above; add a value of %s's model to this test", table, c.Name, k, table)
			}
		}
	}
	if !hiddenSeen["encryptedKey"] {
		t.Error("the sealed key's field is not hidden from JSON")
	}

	m, _ := jsonKeys(t, settings)
	if v, ok := m["allowedEmails"]; ok {
		t.Errorf("empty allowedEmails = %#v, want it left out", v)
	}
	if m["domainGatingEnabled"] != false {
		t.Errorf("domainGatingEnabled = %#v, want false", m["domainGatingEnabled"])
	}
	m, _ = jsonKeys(t, invs[0])
	if _, ok := m["acceptedAt"]; ok || m["role"] != "member" || m["status"] != "pending" {
		t.Errorf("invite JSON = %v", m)
	}
	if s, ok := m["expiresAt"].(string); !ok || !strings.HasSuffix(s, "Z") || !strings.Contains(s, "T") {
		t.Errorf("expiresAt = %#v, want RFC 3339", m["expiresAt"])
	}
	// An empty list result is [] too.
	none, err := st.ListIntegrationsForUser(ctx, "nobody")
	must(t, err)
	b, err := json.Marshal(map[string]any{"x": none})
	must(t, err)
	if none == nil || string(b) != `{"x":[]}` {
		t.Errorf("empty result JSON = %s", b)
	}
}

func TestTriggersRejectBadValues(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	addUser(t, st, "u1", "ada@acme.test", orgdb.RoleAdmin)
	mustExec(t, st.DB(), `INSERT INTO integrations (id, user_id, service) VALUES ('g1', 'u1', 'github')`)
	addOrgKey(t, st, "k1", orgdb.ProviderOpenAI, "x")
	mustExec(t, st.DB(), `INSERT INTO invites (id, email, invited_by, expires_at) VALUES ('i1', 'b@acme.test', 'u1', '2030-01-01 00:00:00')`)
	before := dbtest.Snapshot(t, st.DB())
	for _, q := range []string{
		`INSERT INTO users (id, email, role) VALUES ('u2', 'b@acme.test', 'owner')`,
		`INSERT INTO users (id, email, role) VALUES ('u2', 'b@acme.test', '')`,
		`UPDATE users SET role = 'superadmin'`,
		`UPDATE users SET role = 'Admin'`,
		`INSERT INTO invites (id, email, role, invited_by, expires_at) VALUES ('i2', 'c@acme.test', 'owner', 'u1', '2030-01-01 00:00:00')`,
		`UPDATE invites SET role = 'root'`,
		`INSERT INTO integrations (id, user_id, service, scope) VALUES ('g2', 'u1', 'slack', 'team')`,
		`UPDATE integrations SET scope = 'global'`,
		`INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k2', 'mistral', 'v1:` + testKeyID + `:x', 'u1')`,
		`UPDATE org_api_keys SET provider = 'OpenAI'`,
		`UPDATE org_settings SET domain_gating_enabled = 2`,
		`UPDATE org_settings SET email_allowlist_enabled = NULL`,
		`INSERT INTO org_settings (id) VALUES ('second')`,
		`UPDATE org_settings SET id = 'other'`,
	} {
		_, err := st.DB().Exec(q)
		if err == nil {
			t.Errorf("accepted: %s", q)
			continue
		}
		terr := store.Translate(err, "row")
		var e *orgdb.Error
		if !errors.As(terr, &e) || e.Code != orgdb.CodeValidation || e.HTTPStatus() != 400 {
			t.Errorf("%s: %v → %v, want a validation error", q, err, terr)
		}
	}
	if after := dbtest.Snapshot(t, st.DB()); after != before {
		t.Error("refused writes changed the database")
	}
}

// An invite without created_at would never be listed, so the database
// refuses one; an INSERT that omits the column gets the default.
func TestInviteCreatedAtRequired(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	addUser(t, st, "u1", "ada@acme.test", orgdb.RoleAdmin)
	err := st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
		_, err := q.UpsertInvite(ctx, db.UpsertInviteParams{ID: "i1", Email: "b@acme.test", Role: orgdb.RoleMember, InvitedBy: "u1",
			ExpiresAt: orgdb.NewTime(time.Now().Add(time.Hour))})
		return err
	})
	if !errors.Is(err, orgdb.ErrValidation) {
		t.Errorf("invite without created_at: %v", err)
	}
	mustExec(t, st.DB(), `INSERT INTO invites (id, email, invited_by, expires_at) VALUES ('i2', 'c@acme.test', 'u1', '2030-01-01 00:00:00')`)
	if _, err := st.DB().Exec(`UPDATE invites SET created_at = NULL`); err == nil {
		t.Error("created_at set to NULL")
	}
	invs, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	if err != nil || len(invs) != 1 || invs[0].CreatedAt.IsZero() {
		t.Errorf("ListInvites = %+v, %v", invs, err)
	}
}

// returnedKeys is, for each struct of gen/db that a query returns, the
// set of its fields' names and JSON keys (a json:"-" field by its name,
// camelCased).
func returnedKeys() []map[string]bool {
	var out []map[string]bool
	q := reflect.TypeFor[*db.Queries]()
	for i := range q.NumMethod() {
		m := q.Method(i).Type
		for j := range m.NumOut() {
			typ := m.Out(j)
			if typ.Kind() == reflect.Slice {
				typ = typ.Elem()
			}
			if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[db.User]().PkgPath() {
				continue
			}
			keys := map[string]bool{}
			for k := range typ.NumField() {
				f := typ.Field(k)
				keys[strings.Split(f.Tag.Get("json"), ",")[0]] = true
				keys[strings.ToLower(f.Name[:1])+f.Name[1:]] = true
			}
			out = append(out, keys)
		}
	}
	return out
}

// TestNullableOmitEmpty: every nullable column whose Go field can be unset
// (a pointer, slice or map) is tagged omitempty in every struct of gen/db
// that a query returns, so an unset value is left out of the JSON rather
// than written as null, as the web client declares such fields (name?:
// string). The columns come from the migrated catalog and the structs from
// reflection. A nullable column typed by an override that is never unset in
// Go (orgdb.Time for created_at: the store always writes it) is not
// optional for the client either, and is left alone here.
func TestNullableOmitEmpty(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	nullable := map[string][]string{} // JSON name → table.column
	for table, cols := range dbtest.Tables(t, st.DB()) {
		for _, c := range cols {
			if !c.NotNull && c.PK == 0 {
				nullable[camel(c.Name)] = append(nullable[camel(c.Name)], table+"."+c.Name)
			}
		}
	}
	checked := map[string]bool{}
	seen := map[reflect.Type]bool{}
	q := reflect.TypeFor[*db.Queries]()
	for i := range q.NumMethod() {
		m := q.Method(i).Type
		for j := range m.NumOut() {
			typ := m.Out(j)
			if typ.Kind() == reflect.Slice {
				typ = typ.Elem()
			}
			if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[db.User]().PkgPath() || seen[typ] {
				continue
			}
			seen[typ] = true
			for k := range typ.NumField() {
				f := typ.Field(k)
				tag := strings.Split(f.Tag.Get("json"), ",")
				cols := nullable[tag[0]]
				if len(cols) == 0 || !slices.Contains([]reflect.Kind{reflect.Pointer, reflect.Slice, reflect.Map}, f.Type.Kind()) {
					continue
				}
				checked[tag[0]] = true
				if !slices.Contains(tag[1:], "omitempty") && !slices.Contains(tag[1:], "omitzero") {
					t.Errorf("db.%s.%s (json %q, nullable column %s) is written as null when unset: add to sqlc.yaml\n"+
						"  - column: %s\n    go_struct_tag: json:\"%s,omitempty\"\nthen make generate",
						typ.Name(), f.Name, tag[0], strings.Join(cols, ", "), cols[0], tag[0])
				}
			}
		}
	}
	if len(checked) == 0 {
		t.Fatal("no nullable column found in any struct of gen/db: the test checks nothing")
	}
}
