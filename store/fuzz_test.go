package store_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// settingsBaselines are the states FuzzOrgSettingsPatch patches, chosen by
// a fuzzed byte: gating and the allowlist off and on.
var settingsBaselines = []store.OrgSettingsPatch{
	{Name: ptr("Acme"), AllowedEmailDomain: ptr(""), AllowedEmails: &orgdb.EmailList{}, DomainGatingEnabled: ptr(false), EmailAllowlistEnabled: ptr(false)},
	{Name: ptr("Acme"), AllowedEmailDomain: ptr("acme.test"), AllowedEmails: &orgdb.EmailList{}, DomainGatingEnabled: ptr(true), EmailAllowlistEnabled: ptr(false)},
	{Name: ptr("Acme"), AllowedEmailDomain: ptr(""), AllowedEmails: ptr(orgdb.NewEmailList("a@x.io")), DomainGatingEnabled: ptr(false), EmailAllowlistEnabled: ptr(true)},
	{Name: ptr("Acme"), AllowedEmailDomain: ptr("acme.test"), AllowedEmails: ptr(orgdb.NewEmailList("a@acme.test", "b@y.io")), DomainGatingEnabled: ptr(true), EmailAllowlistEnabled: ptr(true)},
}

// FuzzOrgSettingsPatch decodes an OrgSettingsPatch from arbitrary JSON, as
// the service receives it, and applies it to a real database. Decoding
// never panics and a decoded patch survives re-encoding (whatever the wire
// form of its fields). Applied, the patch either changes exactly the
// fields it names, leaving settings that are valid as a whole, or is a
// VALIDATION_ERROR that changes nothing.
func FuzzOrgSettingsPatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"Name":"  Acme Inc "}`, `{"Name":""}`, `{"name":"x","NAME":"y"}`,
		`{"AllowedEmailDomain":" ACME.test ","DomainGatingEnabled":true}`, `{"AllowedEmailDomain":"","DomainGatingEnabled":true}`,
		`{"AllowedEmailDomain":"evil acme.test"}`, `{"AllowedEmails":["Eve@x.io","bob@y.io"],"EmailAllowlistEnabled":true}`,
		`{"AllowedEmails":"eve@x.io,bob@y.io","EmailAllowlistEnabled":true}`, `{"AllowedEmails":[],"EmailAllowlistEnabled":true}`,
		`{"AllowedEmails":"","EmailAllowlistEnabled":false}`, `{"AllowedEmails":["not an email"]}`, `{"AllowedEmails":null}`,
		`{"DomainGatingEnabled":"yes"}`, `{"Name":1}`, `[]`, `{"Name":"` + strings.Repeat("n", 201) + `"}`,
		`{"allowedEmailDomain":"acme.test","domainGatingEnabled":true,"emailAllowlistEnabled":false}`,
	} {
		for base := range settingsBaselines {
			f.Add(uint8(base), []byte(s))
		}
	}
	st := dbtest.New(f)
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"})
	if err != nil {
		f.Fatal(err)
	}
	by := store.ByUser(admin.ID)
	f.Fuzz(func(t *testing.T, base uint8, b []byte) {
		var p store.OrgSettingsPatch
		if err := json.Unmarshal(b, &p); err != nil {
			// encoding/json keeps the fields it decoded before the error,
			// so the caller must drop the patch: nothing to check here.
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", p, err)
		}
		var back store.OrgSettingsPatch
		if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("%s → %s → %+v, %v", b, out, back, err)
		}

		if _, err := st.UpdateOrgSettings(ctx, by, settingsBaselines[int(base)%len(settingsBaselines)]); err != nil {
			t.Fatal(err)
		}
		before, err := st.GetOrgSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.UpdateOrgSettings(ctx, by, p)
		now, gerr := st.GetOrgSettings(ctx)
		if gerr != nil {
			t.Fatal(gerr)
		}
		if err != nil {
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] == nil {
				t.Fatalf("UpdateOrgSettings(%s): %v, want a VALIDATION_ERROR naming its field", b, err)
			}
			if !reflect.DeepEqual(now, before) {
				t.Fatalf("UpdateOrgSettings(%s) refused (%v) but changed %+v to %+v", b, err, before, now)
			}
			return
		}
		if !reflect.DeepEqual(got, now) {
			t.Fatalf("UpdateOrgSettings(%s) returned %+v, the database holds %+v", b, got, now)
		}
		want := before
		want.UpdatedAt = now.UpdatedAt
		if p.Name != nil {
			want.Name = strings.TrimSpace(*p.Name)
		}
		if p.AllowedEmailDomain != nil {
			want.AllowedEmailDomain = nil
			if d, err := orgdb.NormalizeDomain(*p.AllowedEmailDomain); err == nil {
				want.AllowedEmailDomain = &d
			}
		}
		if p.AllowedEmails != nil {
			want.AllowedEmails = orgdb.NewEmailList(*p.AllowedEmails...)
		}
		if p.DomainGatingEnabled != nil {
			want.DomainGatingEnabled = *p.DomainGatingEnabled
		}
		if p.EmailAllowlistEnabled != nil {
			want.EmailAllowlistEnabled = *p.EmailAllowlistEnabled
		}
		if !reflect.DeepEqual(now, want) {
			t.Fatalf("UpdateOrgSettings(%s) on %+v: got %+v, want %+v", b, before, now, want)
		}
		checkSettingsValid(t, now)
	})
}

// checkSettingsValid checks the settings are valid as a whole, as
// UpdateOrgSettings documents.
func checkSettingsValid(t *testing.T, s db.OrgSettings) {
	t.Helper()
	if s.Name == "" || len(s.Name) > 200 || s.Name != strings.TrimSpace(s.Name) {
		t.Fatalf("settings name %q", s.Name)
	}
	if d := s.AllowedEmailDomain; d != nil {
		if n, err := orgdb.NormalizeDomain(*d); err != nil || n != *d {
			t.Fatalf("settings domain %q not normalized: %v", *d, err)
		}
	}
	if s.DomainGatingEnabled && s.AllowedEmailDomain == nil {
		t.Fatalf("domain gating on without a domain")
	}
	if err := s.AllowedEmails.Validate(); err != nil || !slices.Equal(orgdb.NewEmailList(s.AllowedEmails...), s.AllowedEmails) {
		t.Fatalf("settings allowlist %q: %v", s.AllowedEmails, err)
	}
	if s.EmailAllowlistEnabled && len(s.AllowedEmails) == 0 {
		t.Fatalf("allowlist on and empty")
	}
}
