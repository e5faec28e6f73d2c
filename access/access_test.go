package access_test

import (
	"errors"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
)

func TestCheckSignup(t *testing.T) {
	t.Parallel()
	domain := func(d string) *string { return &d }
	settings := func(gating bool, d *string, allowlist bool, emails ...string) db.OrgSettings {
		return db.OrgSettings{DomainGatingEnabled: gating, AllowedEmailDomain: d, EmailAllowlistEnabled: allowlist, AllowedEmails: orgdb.NewEmailList(emails...)}
	}
	acme := domain("acme.com")
	tests := []struct {
		name   string
		in     access.Signup
		reason string // "" = allowed
	}{
		// Domain gating.
		{"gating: same domain", access.Signup{Email: "bob@acme.com", Settings: settings(true, acme, false)}, ""},
		{"gating: domain in other case", access.Signup{Email: " Bob@ACME.com ", Settings: settings(true, domain("Acme.Com"), false)}, ""},
		{"gating: other domain", access.Signup{Email: "bob@other.com", Settings: settings(true, acme, false)}, access.ReasonDomain},
		{"gating: suffix trick", access.Signup{Email: "bob@evilacme.com", Settings: settings(true, acme, false)}, access.ReasonDomain},
		{"gating: domain as prefix", access.Signup{Email: "bob@acme.com.evil.io", Settings: settings(true, acme, false)}, access.ReasonDomain},
		{"gating: subdomain is not the domain", access.Signup{Email: "bob@eng.acme.com", Settings: settings(true, acme, false)}, access.ReasonDomain},
		{"gating: @ in local part", access.Signup{Email: "acme.com@evil.io", Settings: settings(true, acme, false)}, access.ReasonDomain},
		{"gating: no domain configured refuses", access.Signup{Email: "bob@acme.com", Settings: settings(true, nil, false)}, access.ReasonDomain},
		{"gating: invite does not bypass", access.Signup{Email: "bob@other.com", Settings: settings(true, acme, false), HasValidInvite: true}, access.ReasonDomain},
		// Allowlist.
		{"allowlist: listed", access.Signup{Email: "eve@x.io", Settings: settings(false, nil, true, "eve@x.io", "bob@y.io")}, ""},
		{"allowlist: listed, other case and spaces", access.Signup{Email: "  EVE@X.io", Settings: settings(false, nil, true, " Eve@x.IO ")}, ""},
		{"allowlist: not listed", access.Signup{Email: "mallory@x.io", Settings: settings(false, nil, true, "eve@x.io")}, access.ReasonAllowlist},
		{"allowlist: empty list refuses", access.Signup{Email: "eve@x.io", Settings: settings(false, nil, true)}, access.ReasonAllowlist},
		// Both on: both must pass.
		{"both: both pass", access.Signup{Email: "eve@acme.com", Settings: settings(true, acme, true, "eve@acme.com")}, ""},
		{"both: domain ok, not listed", access.Signup{Email: "bob@acme.com", Settings: settings(true, acme, true, "eve@acme.com")}, access.ReasonAllowlist},
		{"both: listed, wrong domain", access.Signup{Email: "eve@x.io", Settings: settings(true, acme, true, "eve@x.io")}, access.ReasonDomain},
		// Neither on.
		{"neither: valid invite", access.Signup{Email: "bob@x.io", HasValidInvite: true, InvitesExist: true}, ""},
		{"neither: invites exist, none for this email", access.Signup{Email: "bob@x.io", InvitesExist: true}, access.ReasonInviteRequired},
		{"neither: nothing configured is open", access.Signup{Email: "bob@x.io"}, ""},
		{"neither: ALLOWED_EMAILS lists it", access.Signup{Email: "Bob@x.io", AllowedEmails: orgdb.ParseEmailList("bob@x.io, eve@x.io")}, ""},
		{"neither: ALLOWED_EMAILS does not list it", access.Signup{Email: "mallory@x.io", AllowedEmails: orgdb.ParseEmailList("bob@x.io")}, access.ReasonNotAllowed},
		{"neither: ALLOWED_EMAILS set, invites exist, listed", access.Signup{Email: "bob@x.io", InvitesExist: true, AllowedEmails: orgdb.ParseEmailList("bob@x.io")}, ""},
		{"neither: invite wins over ALLOWED_EMAILS", access.Signup{Email: "carol@x.io", HasValidInvite: true, AllowedEmails: orgdb.ParseEmailList("bob@x.io")}, ""},
		{"database config wins over ALLOWED_EMAILS", access.Signup{Email: "bob@x.io", Settings: settings(true, acme, false), AllowedEmails: orgdb.ParseEmailList("bob@x.io")}, access.ReasonDomain},
		// Allowlist entries disabled are ignored.
		{"allowlist off, list set, nothing else", access.Signup{Email: "mallory@x.io", Settings: settings(false, nil, false, "eve@x.io")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := access.CheckSignup(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeForbidden || e.Reason != tt.reason || e.Message == "" {
				t.Fatalf("err = %#v, want FORBIDDEN %s", err, tt.reason)
			}
		})
	}
	for _, bad := range []string{"", "not-an-email", "bob@acme.com'; DROP TABLE users;--"} {
		if err := access.CheckSignup(access.Signup{Email: bad}); !errors.Is(err, orgdb.ErrValidation) {
			t.Errorf("CheckSignup(%q) = %v, want a validation error", bad, err)
		}
	}
}
