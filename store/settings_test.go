package store_test

import (
	"errors"
	"slices"
	"sync"
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
	full, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{
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
	renamed, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{Name: ptr("  Acme Inc ")})
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Name != "Acme Inc" || *renamed.AllowedEmailDomain != "acme.test" || !renamed.DomainGatingEnabled ||
		!renamed.EmailAllowlistEnabled || !slices.Equal(renamed.AllowedEmails, full.AllowedEmails) || !renamed.CreatedAt.Equal(full.CreatedAt.Time) {
		t.Errorf("after a name-only patch = %+v", renamed)
	}
	// Turning gating off keeps the domain; clearing the list needs the allowlist off.
	off, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{DomainGatingEnabled: ptr(false), EmailAllowlistEnabled: ptr(false), AllowedEmails: &orgdb.EmailList{}})
	if err != nil || off.DomainGatingEnabled || off.EmailAllowlistEnabled || *off.AllowedEmailDomain != "acme.test" || len(off.AllowedEmails) != 0 {
		t.Errorf("after turning off = %+v, %v", off, err)
	}
	if cleared, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmailDomain: ptr("")}); err != nil || cleared.AllowedEmailDomain != nil {
		t.Errorf("clearing the domain = %+v, %v", cleared, err)
	}
}

func TestUpdateOrgSettingsRefusals(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	if _, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmailDomain: ptr("acme.test"), DomainGatingEnabled: ptr(true)}); err != nil {
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
		_, err := st.UpdateOrgSettings(ctx, p)
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
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{Name: ptr("Acme")})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmails: ptr(orgdb.NewEmailList("a@acme.test")), EmailAllowlistEnabled: ptr(true)})
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

func TestStoreCheckSignup(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	// Nothing configured: open.
	if err := st.CheckSignup(ctx, "anyone@x.io", nil); err != nil {
		t.Errorf("open sign-up refused: %v", err)
	}
	admin := signup(t, st, "ada@acme.test")
	if _, err := st.CreateInvite(ctx, store.NewInvite{Email: "bob@x.io", InvitedBy: admin.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckSignup(ctx, "BOB@x.io", nil); err != nil {
		t.Errorf("invited email refused: %v", err)
	}
	var e *orgdb.Error
	if err := st.CheckSignup(ctx, "mallory@x.io", nil); !errors.As(err, &e) || e.Reason != access.ReasonInviteRequired {
		t.Errorf("uninvited email: %v", err)
	}
	if err := st.CheckSignup(ctx, "carol@x.io", orgdb.ParseEmailList("carol@x.io")); err != nil {
		t.Errorf("ALLOWED_EMAILS fallback refused: %v", err)
	}
	if _, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmailDomain: ptr("acme.test"), DomainGatingEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckSignup(ctx, "bob@x.io", nil); !errors.As(err, &e) || e.Reason != access.ReasonDomain {
		t.Errorf("gated, other domain: %v", err)
	}
	if err := st.CheckSignup(ctx, "dan@acme.test", nil); err != nil {
		t.Errorf("gated, right domain: %v", err)
	}
}
