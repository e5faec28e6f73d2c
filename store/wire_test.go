package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// decodeBody decodes a request body as the service does, refusing fields
// the Go type does not know, so a field the web client sends that orgdb
// would drop in silence fails here.
func decodeBody(body string, v any) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// servedJSON marshals v as the service serves it and reads it back as a
// generic object.
func servedJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

// The settings page's PUT /api/admin bodies (client-wire-types.md): the
// allowlist as the text input's comma-separated string, or as an array
// from a newer client, decode to the same EmailList and are served back as
// the normalized string; "" clears; a field left out is untouched.
func TestClientSettingsPatch(t *testing.T) {
	t.Parallel()
	want := orgdb.EmailList{"a@x.io", "b@y.io"}
	for _, body := range []string{
		`{"name":"Acme","allowedEmailDomain":"acme.test","allowedEmails":"a@x.io, b@y.io","domainGatingEnabled":true,"emailAllowlistEnabled":true}`,
		`{"name":"Acme","allowedEmailDomain":"acme.test","allowedEmails":["a@x.io"," B@y.io","a@x.io"],"domainGatingEnabled":true,"emailAllowlistEnabled":true}`,
	} {
		st := dbtest.New(t)
		signup(t, st, "admin@acme.test")
		var p store.OrgSettingsPatch
		if err := decodeBody(body, &p); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		if p.AllowedEmails == nil || !slices.Equal(*p.AllowedEmails, want) {
			t.Fatalf("decode %s: allowedEmails = %v, want %q", body, p.AllowedEmails, want)
		}
		s, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), p)
		must(t, err)
		m := servedJSON(t, s)
		if m["allowedEmails"] != "a@x.io,b@y.io" || m["allowedEmailDomain"] != "acme.test" || m["name"] != "Acme" ||
			m["domainGatingEnabled"] != true || m["emailAllowlistEnabled"] != true {
			t.Errorf("served settings after %s = %v", body, m)
		}

		// The page sends undefined (no key) for an empty input: untouched.
		var rename store.OrgSettingsPatch
		must(t, decodeBody(`{"name":"Acme Inc"}`, &rename))
		s, err = st.UpdateOrgSettings(ctx, asAdmin(t, st), rename)
		must(t, err)
		if m := servedJSON(t, s); m["allowedEmails"] != "a@x.io,b@y.io" || m["name"] != "Acme Inc" {
			t.Errorf("after a rename = %v", m)
		}

		// "" clears the domain and the list: both then absent, not null.
		var clear store.OrgSettingsPatch
		must(t, decodeBody(`{"allowedEmailDomain":"","allowedEmails":"","domainGatingEnabled":false,"emailAllowlistEnabled":false}`, &clear))
		s, err = st.UpdateOrgSettings(ctx, asAdmin(t, st), clear)
		must(t, err)
		m = servedJSON(t, s)
		for _, k := range []string{"allowedEmails", "allowedEmailDomain"} {
			if v, ok := m[k]; ok {
				t.Errorf("cleared %s served as %#v, want it left out", k, v)
			}
		}
	}

	// A body orgdb cannot read is a VALIDATION_ERROR naming the field.
	var p store.OrgSettingsPatch
	err := decodeBody(`{"allowedEmails":42}`, &p)
	var e *orgdb.Error
	if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != "allowedEmails" {
		t.Errorf("allowedEmails 42: %v, want a VALIDATION_ERROR on allowedEmails", err)
	}
}

// PUT /api/admin/llm-keys/:provider sends { key }: it decodes into a
// Secret that stores and opens, and never shows in fmt or JSON.
func TestClientKeyBody(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithSealingKey(newKey(t)))
	admin := signup(t, st, "ada@acme.test")
	const key = "sk-ant-CLIENT-BODY-KEY"
	var in store.OrgAPIKeyInput
	must(t, decodeBody(`{"key":"`+key+`"}`, &in))
	if in.Key.Reveal() != key {
		t.Fatal("the decoded key differs from the body's")
	}
	b, err := json.Marshal(in)
	must(t, err)
	if s := fmt.Sprintf("%v %+v %#v %s", in, in, in, b); strings.Contains(s, key) {
		t.Errorf("the decoded body shows the key: %s", s)
	}
	view, err := st.SetOrgAPIKey(ctx, store.ByUser(admin.ID), orgdb.ProviderAnthropic, in.Key)
	must(t, err)
	if got, err := st.OpenOrgAPIKey(ctx, orgdb.ProviderAnthropic); err != nil || got.Reveal() != key {
		t.Errorf("stored key does not open to the body's: %v", err)
	}
	m := servedJSON(t, view)
	if m["id"] == "" || m["id"] == nil || m["setBy"] != admin.ID || m["isSet"] != true || m["provider"] != "anthropic" {
		t.Errorf("served key view = %v", m)
	}

	// Not a string: a VALIDATION_ERROR on key that does not echo the input.
	for _, bad := range []string{`{"key":42}`, `{"key":{"v":"sk-ant-LEAK"}}`} {
		var in store.OrgAPIKeyInput
		err := decodeBody(bad, &in)
		var e *orgdb.Error
		if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] != "key" || strings.Contains(err.Error(), "LEAK") {
			t.Errorf("%s: %v, want a VALIDATION_ERROR on key without the input", bad, err)
		}
	}
}

// POST /api/admin/invites sends { email, role? }: without a role the
// invite is a member's; the inviter comes from the service, never from the
// body.
func TestClientInviteBody(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin := signup(t, st, "ada@acme.test")
	for body, role := range map[string]orgdb.UserRole{
		`{"email":"carol@acme.test"}`:               orgdb.RoleMember,
		`{"email":"Dan@Acme.test","role":"admin"}`:  orgdb.RoleAdmin,
		`{"email":"eve@acme.test","role":"member"}`: orgdb.RoleMember,
	} {
		var in store.NewInvite
		if err := decodeBody(body, &in); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), in)
		must(t, err)
		m := servedJSON(t, inv)
		if m["role"] != string(role) || m["invitedBy"] != admin.ID || !strings.HasSuffix(m["email"].(string), "@acme.test") {
			t.Errorf("%s: served invite = %v", body, m)
		}
		if v, ok := m["acceptedAt"]; ok {
			t.Errorf("%s: a pending invite's acceptedAt served as %#v, want it left out", body, v)
		}
	}
	for _, bad := range []string{
		`{"email":"mallory@acme.test","role":"owner"}`,
		`{"email":"mallory@acme.test","invitedBy":"someone-else"}`, // not the body's to say
	} {
		var in store.NewInvite
		if err := decodeBody(bad, &in); err == nil {
			t.Errorf("%s decoded: %+v", bad, in)
		}
	}
	var in store.NewInvite
	must(t, json.NewDecoder(bytes.NewReader([]byte(`{"email":"m@acme.test","invitedBy":"someone-else","ttl":1}`))).Decode(&in))
	if in.TTL != 0 {
		t.Errorf("a lenient decode took ttl from the body: %+v", in)
	}
}
