package orgdb_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
)

func TestParseEnums(t *testing.T) {
	for _, r := range orgdb.UserRoles() {
		if got, err := orgdb.ParseUserRole(string(r)); err != nil || got != r || !r.Valid() {
			t.Errorf("ParseUserRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range orgdb.IntegrationScopes() {
		if got, err := orgdb.ParseIntegrationScope(string(s)); err != nil || got != s || !s.Valid() {
			t.Errorf("ParseIntegrationScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, p := range orgdb.Providers() {
		if got, err := orgdb.ParseProvider(string(p)); err != nil || got != p || !p.Valid() {
			t.Errorf("ParseProvider(%q) = %q, %v", p, got, err)
		}
	}
	bad := []struct {
		parse func(string) error
		in    string
		want  []string
	}{
		{func(s string) error { _, err := orgdb.ParseUserRole(s); return err }, "owner", []string{`"owner"`, `"admin"`, `"member"`}},
		{func(s string) error { _, err := orgdb.ParseUserRole(s); return err }, "Admin", []string{`"Admin"`}},
		{func(s string) error { _, err := orgdb.ParseUserRole(s); return err }, "", []string{`""`}},
		{func(s string) error { _, err := orgdb.ParseIntegrationScope(s); return err }, "team", []string{`"team"`, `"user"`, `"org"`}},
		{func(s string) error { _, err := orgdb.ParseProvider(s); return err }, "mistral", []string{`"mistral"`, `"anthropic"`, `"openai"`, `"google"`}},
	}
	for _, b := range bad {
		err := b.parse(b.in)
		if !errors.Is(err, orgdb.ErrValidation) || orgdb.HTTPStatus(err) != 400 {
			t.Errorf("parse %q: err = %v, want a validation error", b.in, err)
			continue
		}
		for _, w := range b.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parse %q: %q does not mention %s", b.in, err, w)
			}
		}
	}
	if orgdb.UserRole("root").Valid() || orgdb.IntegrationScope("").Valid() || orgdb.Provider("x").Valid() {
		t.Error("Valid accepts an unknown value")
	}
	// The lists are copies: changing one cannot widen what is valid.
	roles := orgdb.UserRoles()
	roles[0] = "root"
	if orgdb.UserRole("root").Valid() {
		t.Error("UserRoles exposes the list Valid uses")
	}
}

func TestEnumJSON(t *testing.T) {
	type body struct {
		Role     orgdb.UserRole         `json:"role"`
		Scope    orgdb.IntegrationScope `json:"scope"`
		Provider orgdb.Provider         `json:"provider"`
	}
	in := body{orgdb.RoleAdmin, orgdb.ScopeOrg, orgdb.ProviderGoogle}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"role":"admin","scope":"org","provider":"google"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var out body
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("Unmarshal = %+v, %v", out, err)
	}
	for _, bad := range []string{
		`{"role":"owner"}`, `{"role":""}`, `{"scope":"team"}`, `{"provider":"mistral"}`, `{"role":1}`,
	} {
		var v body
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %+v", bad, v)
		}
	}
	if _, err := json.Marshal(body{Role: "owner", Scope: orgdb.ScopeUser, Provider: orgdb.ProviderOpenAI}); err == nil {
		t.Error("Marshal of an unknown role succeeded")
	}
}

func TestEnumValueAndScan(t *testing.T) {
	if v, err := orgdb.RoleMember.Value(); err != nil || v != "member" {
		t.Errorf("Value = %v, %v", v, err)
	}
	if _, err := orgdb.UserRole("owner").Value(); !errors.Is(err, orgdb.ErrValidation) {
		t.Errorf("Value of unknown role: %v", err)
	}
	if _, err := orgdb.Provider("").Value(); !errors.Is(err, orgdb.ErrValidation) {
		t.Errorf("Value of empty provider: %v", err)
	}
	var r orgdb.UserRole
	for _, src := range []any{"owner", []byte("ADMIN"), nil, int64(1)} {
		if err := r.Scan(src); err == nil {
			t.Errorf("Scan(%#v) accepted as %q", src, r)
		}
	}
	if r != "" {
		t.Errorf("a failed Scan left %q", r)
	}
	if err := r.Scan([]byte("admin")); err != nil || r != orgdb.RoleAdmin {
		t.Errorf("Scan(admin) = %q, %v", r, err)
	}
	var s orgdb.IntegrationScope
	if err := s.Scan("org"); err != nil || s != orgdb.ScopeOrg {
		t.Errorf("Scan(org) = %q, %v", s, err)
	}
	var p orgdb.Provider
	if err := p.Scan("openai"); err != nil || p != orgdb.ProviderOpenAI {
		t.Errorf("Scan(openai) = %q, %v", p, err)
	}
}
