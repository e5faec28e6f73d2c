package store_test

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateOrgSettingsPartial(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	signup(t, st, "admin@acme.test")
	full, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{
		Name:                  ptr("Acme"),
		AllowedEmailDomain:    ptr(" ACME.test "),
		AllowedEmails:         ptr(orgdb.NewEmailList("Eve@x.io", "bob@y.io")),
		DomainGatingEnabled:   ptr(true),
		EmailAllowlistEnabled: ptr(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if full.Name != "Acme" || *full.AllowedEmailDomain != "acme.test" || !full.DomainGatingEnabled || !full.EmailAllowlistEnabled ||
		!slices.Equal(full.AllowedEmails, orgdb.EmailList{"eve@x.io", "bob@y.io"}) {
		t.Fatalf("settings = %+v", full)
	}

	// Only the name: every other field exactly as it was.
	renamed, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{Name: ptr("  Acme Inc ")})
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Name != "Acme Inc" || *renamed.AllowedEmailDomain != "acme.test" || !renamed.DomainGatingEnabled ||
		!renamed.EmailAllowlistEnabled || !slices.Equal(renamed.AllowedEmails, full.AllowedEmails) || !renamed.CreatedAt.Equal(full.CreatedAt.Time) {
		t.Errorf("after a name-only patch = %+v", renamed)
	}
	// Turning gating off keeps the domain; clearing the list needs the allowlist off.
	off, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{DomainGatingEnabled: ptr(false), EmailAllowlistEnabled: ptr(false), AllowedEmails: &orgdb.EmailList{}})
	if err != nil || off.DomainGatingEnabled || off.EmailAllowlistEnabled || *off.AllowedEmailDomain != "acme.test" || len(off.AllowedEmails) != 0 {
		t.Errorf("after turning off = %+v, %v", off, err)
	}
	if cleared, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{AllowedEmailDomain: ptr("")}); err != nil || cleared.AllowedEmailDomain != nil {
		t.Errorf("clearing the domain = %+v, %v", cleared, err)
	}
}

func TestUpdateOrgSettingsRefusals(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	signup(t, st, "admin@acme.test")
	if _, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{AllowedEmailDomain: ptr("acme.test"), DomainGatingEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	before := dbtest.Snapshot(t, st.DB())
	for name, p := range map[string]store.OrgSettingsPatch{
		"empty name":                {Name: ptr("   ")},
		"gating without a domain":   {AllowedEmailDomain: ptr("")},
		"malformed domain":          {AllowedEmailDomain: ptr("acme")},
		"suffix-trick domain":       {AllowedEmailDomain: ptr("@acme.test")},
		"invalid allowlist entry":   {AllowedEmails: ptr(orgdb.NewEmailList("ok@acme.test", "not an email"))},
		"allowlist on and empty":    {EmailAllowlistEnabled: ptr(true)},
		"sql in the allowlist":      {AllowedEmails: ptr(orgdb.NewEmailList("x'; DROP TABLE users;--"))},
		"valid name, invalid other": {Name: ptr("New"), AllowedEmailDomain: ptr("not a domain")},
	} {
		_, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), p)
		if !errors.Is(err, orgdb.ErrValidation) {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused patches changed the database")
	}
}

// Concurrent patches of different fields must not undo each other: each
// merges into the row as it is at its own IMMEDIATE transaction.
func TestUpdateOrgSettingsConcurrentPatches(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	signup(t, st, "admin@acme.test")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{Name: ptr("Acme")})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{AllowedEmails: ptr(orgdb.NewEmailList("a@acme.test")), EmailAllowlistEnabled: ptr(true)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent patch: %v", err)
		}
	}
	s, err := st.GetOrgSettings(ctx)
	must(t, err)
	if s.Name != "Acme" || !s.EmailAllowlistEnabled || !slices.Equal(s.AllowedEmails, orgdb.EmailList{"a@acme.test"}) {
		t.Errorf("settings after concurrent patches = %+v", s)
	}
}

// The sign-up policy applies in CreateUser itself, and CheckSignup
// previews the same decision: for each configuration, an address CheckSignup
// admits signs up, one it refuses is refused by CreateUser with the same
// reason and nothing changes, and the operator's bypass creates it anyway.
func TestSignupPolicy(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path, store.WithAllowedEmails(orgdb.ParseEmailList("carol@x.io")))
	must(t, err)
	closeStore(t, st)
	plain := dbtest.New(t) // no ALLOWED_EMAILS

	// Nothing configured, no invites: open, but for ALLOWED_EMAILS.
	signup(t, plain, "anyone@x.io")
	_, err = st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	wantErr(t, err, orgdb.CodeForbidden, access.ReasonNotAllowed)
	admin, err := st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: "ada@acme.test"})
	must(t, err)
	if admin.Role != orgdb.RoleAdmin {
		t.Errorf("the first user, created by the operator, is %s", admin.Role)
	}
	by := store.ByUser(admin.ID)
	must(t, second(st.CreateInvite(ctx, by, store.NewInvite{Email: "bob@x.io"})))

	try := func(name, email, reason string) {
		t.Helper()
		err := st.CheckSignup(ctx, email)
		if reason == "" {
			if err != nil {
				t.Fatalf("%s: CheckSignup(%s) = %v, want nil", name, email, err)
			}
			signup(t, st, email)
			return
		}
		wantErr(t, err, orgdb.CodeForbidden, reason)
		before := dbtest.Snapshot(t, st.DB())
		_, err = st.CreateUser(ctx, store.NewUser{Email: email})
		wantErr(t, err, orgdb.CodeForbidden, reason)
		if dbtest.Snapshot(t, st.DB()) != before {
			t.Errorf("%s: the refused sign-up of %s changed the database", name, email)
		}
		u, err := st.CreateUserBypassingPolicy(ctx, store.Operator("TestSignupPolicy"), store.NewUser{Email: email})
		if err != nil || u.Email != email {
			t.Fatalf("%s: the operator's bypass for %s: %+v, %v", name, email, u, err)
		}
	}
	// Invites exist: an invite is required, or a listing in ALLOWED_EMAILS.
	try("invited", "BOB@x.io", "")
	try("uninvited, not in ALLOWED_EMAILS", "mallory@x.io", access.ReasonNotAllowed)
	try("ALLOWED_EMAILS", "carol@x.io", "")
	// Without ALLOWED_EMAILS: open while there is no invite, then an
	// invite is required.
	if _, err := plain.CreateUser(ctx, store.NewUser{Email: "carol@x.io"}); err != nil {
		t.Errorf("without ALLOWED_EMAILS and without invites, sign-up is open: %v", err)
	}
	must(t, second(plain.CreateInvite(ctx, asAdmin(t, plain), store.NewInvite{Email: "zed@x.io"})))
	_, err = plain.CreateUser(ctx, store.NewUser{Email: "mallory@x.io"})
	wantErr(t, err, orgdb.CodeForbidden, access.ReasonInviteRequired)
	// Domain gating on: the domain decides, whatever the invites.
	must(t, second(st.UpdateOrgSettings(ctx, by, store.OrgSettingsPatch{AllowedEmailDomain: ptr("acme.test"), DomainGatingEnabled: ptr(true)})))
	must(t, second(st.CreateInvite(ctx, by, store.NewInvite{Email: "dave@x.io"})))
	try("gated, invited elsewhere", "dave@x.io", access.ReasonDomain)
	try("gated, look-alike domain", "eve@evilacme.test", access.ReasonDomain)
	try("gated, right domain", "dan@acme.test", "")
	// The allowlist too: both must pass.
	must(t, second(st.UpdateOrgSettings(ctx, by, store.OrgSettingsPatch{AllowedEmails: ptr(orgdb.NewEmailList("fay@acme.test")), EmailAllowlistEnabled: ptr(true)})))
	try("gated and listed", "fay@acme.test", "")
	try("gated, not listed", "gus@acme.test", access.ReasonAllowlist)

	// The bypass is the operator's only, and needs an actor.
	_, err = st.CreateUserBypassingPolicy(ctx, by, store.NewUser{Email: "hal@x.io"})
	wantErr(t, err, orgdb.CodeForbidden, store.ReasonOperatorRequired)
	_, err = st.CreateUserBypassingPolicy(ctx, store.Actor{}, store.NewUser{Email: "hal@x.io"})
	wantErr(t, err, orgdb.CodeUnauthorized, store.ReasonNoActor)
}

// The policy is decided in the transaction that creates the user: a
// gating switched on by another process just before the sign-up's
// transaction begins (after CheckSignup's preview, and after anything
// the store does before BEGIN) is seen, and the sign-up is refused. A
// policy checked before the write's transaction would have let it
// through.
func TestSignupPolicyIsReadInTheWrite(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	var before atomic.Pointer[func()]
	st, err := store.Open(ctx, path, beforeBegin(&before))
	must(t, err)
	closeStore(t, st)
	other, err := store.Open(ctx, path) // another process's store
	must(t, err)
	closeStore(t, other)
	admin := signup(t, st, "ada@acme.test")
	must(t, st.CheckSignup(ctx, "eve@evil.test"))
	gate := func() {
		must(t, second(other.UpdateOrgSettings(ctx, store.ByUser(admin.ID), store.OrgSettingsPatch{AllowedEmailDomain: ptr("acme.test"), DomainGatingEnabled: ptr(true)})))
	}
	before.Store(&gate)
	_, err = st.CreateUser(ctx, store.NewUser{Email: "eve@evil.test"})
	wantErr(t, err, orgdb.CodeForbidden, access.ReasonDomain)
	if before.Load() != nil {
		t.Fatal("the hook before the write did not run")
	}
	if _, err := st.GetUserByEmail(ctx, "eve@evil.test"); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("eve was created: %v", err)
	}
}
