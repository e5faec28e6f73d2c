package main

// The operator's commands beyond their rows in cliTable: what they leave in
// the database.

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// openRead opens the database of env read-only for a test's checks.
func openRead(t *testing.T, env map[string]string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), env["ORGDB_DB"], store.ReadOnlyAtRest())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// run0 runs the CLI and fails the test unless it succeeds; it returns stdout.
func run0(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, env, args...)
	if code != 0 || errs != "" {
		t.Fatalf("orgdb %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// users delete --reassign gives the user's invites and org API keys to the
// admin --by and deletes the user; the rows survive.
func TestUsersDeleteReassigns(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	twoAdmins(t, env) // me: carol's invite and the anthropic key; bob: dan's invite
	ctx := context.Background()
	st := openRead(t, env)
	me, err := st.GetUserByEmail(ctx, "me@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	run0(t, env, "users", "delete", "me@acme.test", "--by", "bob@acme.test", "--reassign")
	bob, err := st.GetUserByEmail(ctx, "bob@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetUser(ctx, me.ID); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("me@acme.test after delete: %v, want NOT_FOUND", err)
	}
	invited := map[string]string{}
	for inv, err := range st.AllInvites(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		invited[inv.Email] = inv.InvitedBy
	}
	if want := map[string]string{"carol@acme.test": bob.ID, "dan@acme.test": bob.ID}; !reflect.DeepEqual(invited, want) {
		t.Errorf("invites' inviters = %v, want %v (all bob's)", invited, want)
	}
	views, err := st.ListOrgAPIKeyViews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || views[0].SetBy != bob.ID {
		t.Errorf("org API keys after reassigning: %+v, want the anthropic key set by bob", views)
	}
}

// invites revoke takes an id as well as an email, and the revoked invite
// is gone.
func TestInvitesRevokeByID(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)
	run0(t, env, "invites", "create", "dan@acme.test", "--role", "admin", "--by", "me@acme.test")
	var invites []db.ListInvitesRow
	if err := json.Unmarshal([]byte(run0(t, env, "invites", "list", "--json")), &invites); err != nil {
		t.Fatal(err)
	}
	var dan string
	for _, inv := range invites {
		if inv.Email == "dan@acme.test" {
			dan = inv.ID
		}
	}
	out := run0(t, env, "invites", "revoke", dan, "--by", "me@acme.test")
	if !strings.Contains(out, ": revoked the pending invite of dan@acme.test as admin (id "+dan+")") || strings.Contains(out, "no invite is left") {
		t.Errorf("revoke by id: %q", out)
	}
	if _, err := openRead(t, env).GetInvite(context.Background(), dan); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("the revoked invite: %v, want NOT_FOUND", err)
	}
	// carol's invite is untouched; dan may no longer sign up.
	code, _, errs := cli(t, env, "users", "add", "dan@acme.test")
	if code != 1 || !strings.Contains(errs, "invite_required") {
		t.Errorf("dan signs up after the revoke: exit %d, %q", code, errs)
	}
}

// settings set writes what settings show and the service read: the JSON is
// the store's OrgSettings, and the sign-up policy follows it.
func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)
	run0(t, env, "settings", "set", "--name", "Acme Inc.", "--allowlist", "Ann@partner.test, bo@partner.test", "--allowlist-gating", "on", "--by", "me@acme.test")
	st := openRead(t, env)
	want, err := st.GetOrgSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want.Name != "Acme Inc." || !reflect.DeepEqual(want.AllowedEmails, orgdb.EmailList{"ann@partner.test", "bo@partner.test"}) || !want.EmailAllowlistEnabled || want.DomainGatingEnabled {
		t.Fatalf("stored settings: %+v", want)
	}
	out := run0(t, env, "settings", "show", "--json")
	var got db.OrgSettings
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("settings show --json = %+v (%v), want the store's %+v\n%s", got, err, want, out)
	}
	if !strings.Contains(out, `"allowedEmails": "ann@partner.test,bo@partner.test"`) {
		t.Errorf("settings show --json: the allowlist is not the web client's comma-separated string:\n%s", out)
	}
	if out := run0(t, env, "settings", "show"); !strings.Contains(out, "sign-up:           only addresses on the allowlist") {
		t.Errorf("settings show:\n%s", out)
	}
	run0(t, env, "users", "add", "ann@partner.test")
	if code, _, errs := cli(t, env, "users", "add", "carol@acme.test"); code != 1 || !strings.Contains(errs, "email_not_on_allowlist") {
		t.Errorf("an invited address not on the allowlist signs up: exit %d, %q", code, errs)
	}
	// Clearing the list while its gating is on is refused as a whole.
	code, _, errs := cli(t, env, "settings", "set", "--allowlist", "", "--by", "me@acme.test")
	if code != 1 || !strings.Contains(errs, "the email allowlist is enabled but empty (--allowlist sets it); nothing changed") {
		t.Errorf("clearing the gating allowlist: exit %d, %q", code, errs)
	}
	run0(t, env, "settings", "set", "--allowlist-gating", "off", "--allowlist", "", "--by", "me@acme.test")
	if s, err := st.GetOrgSettings(context.Background()); err != nil || len(s.AllowedEmails) != 0 || s.EmailAllowlistEnabled || s.Name != "Acme Inc." {
		t.Errorf("after clearing: %+v, %v", s, err)
	}
}
