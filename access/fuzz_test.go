package access_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
)

// Bits of FuzzCheckSignup's flags.
const (
	flagGating = 1 << iota
	flagAllowlist
	flagDomainSet
	flagInvite
	flagInvitesExist
)

// FuzzCheckSignup checks CheckSignup against the rules of its doc comment,
// written out here with NormalizeEmail and NormalizeDomain: the email
// normalizes or the answer is a VALIDATION_ERROR; domain gating admits
// exactly the normalized addresses whose domain is the normalized allowed
// domain (so neither evilacme.com nor acme.com.evil.io pass for
// acme.com); the allowlist admits exactly its normalized items; otherwise
// an invite, ALLOWED_EMAILS or an organization without invites decides.
// The answer for an email and for its normalized form is the same.
func FuzzCheckSignup(f *testing.F) {
	for _, c := range []struct {
		email, domain, allow, env string
		flags                     uint8
	}{
		{"a@acme.com", "acme.com", "", "", flagGating | flagDomainSet},
		{"A@ACME.com ", " Acme.COM", "", "", flagGating | flagDomainSet},
		{"a@evilacme.com", "acme.com", "", "", flagGating | flagDomainSet},
		{"a@acme.com.evil.io", "acme.com", "", "", flagGating | flagDomainSet},
		{"a@sub.acme.com", "acme.com", "", "", flagGating | flagDomainSet},
		{"a@acme.com", "", "", "", flagGating},
		{"a@acme.com", "not a domain", "", "", flagGating | flagDomainSet},
		{"a@acme.com", "acme.com", "a@acme.com, b@x.io", "", flagGating | flagAllowlist | flagDomainSet},
		{"b@x.io", "acme.com", " B@X.io ", "", flagAllowlist | flagDomainSet},
		{"b@x.io", "", "b@x.io.evil", "", flagAllowlist},
		{"c@x.io", "", "", "c@x.io", flagInvitesExist},
		{"c@x.io", "", "", "d@x.io", flagInvite},
		{"c@x.io", "", "", "", flagInvitesExist},
		{"c@x.io", "", "", "", 0},
		{"not an email", "", "", "", 0},
		{"a@ acme.com", "acme.com", "", "", flagGating | flagDomainSet},
		{"\u212a@acme.com", "acme.com", "k@acme.com", "", flagAllowlist},
	} {
		f.Add(c.email, c.domain, c.allow, c.env, c.flags)
	}
	f.Fuzz(func(t *testing.T, email, domain, allow, env string, flags uint8) {
		in := access.Signup{
			Email: email,
			Settings: db.OrgSettings{
				DomainGatingEnabled:   flags&flagGating != 0,
				EmailAllowlistEnabled: flags&flagAllowlist != 0,
				AllowedEmails:         orgdb.ParseEmailList(allow), // as read from the column
			},
			HasValidInvite: flags&flagInvite != 0,
			InvitesExist:   flags&flagInvitesExist != 0,
			AllowedEmails:  orgdb.ParseEmailList(env),
		}
		if flags&flagDomainSet != 0 {
			in.Settings.AllowedEmailDomain = &domain
		}
		err := access.CheckSignup(in)

		norm, nerr := orgdb.NormalizeEmail(email)
		var want string // "" admitted, else the reason or "validation"
		switch {
		case nerr != nil:
			want = "validation"
		case in.Settings.DomainGatingEnabled || in.Settings.EmailAllowlistEnabled:
			if in.Settings.DomainGatingEnabled {
				d, derr := orgdb.NormalizeDomain(domain)
				if flags&flagDomainSet == 0 || derr != nil || !strings.HasSuffix(norm, "@"+d) {
					want = access.ReasonDomain
					break
				}
			}
			if in.Settings.EmailAllowlistEnabled && !slices.Contains(in.Settings.AllowedEmails, norm) {
				want = access.ReasonAllowlist
			}
		case in.HasValidInvite:
		case len(in.AllowedEmails) > 0:
			if !slices.Contains(in.AllowedEmails, norm) {
				want = access.ReasonNotAllowed
			}
		case in.InvitesExist:
			want = access.ReasonInviteRequired
		}

		var e *orgdb.Error
		switch {
		case want == "":
			if err != nil {
				t.Fatalf("CheckSignup(%+v) = %v, want admitted", in, err)
			}
		case want == "validation":
			if !errors.As(err, &e) || e.Code != orgdb.CodeValidation {
				t.Fatalf("CheckSignup(%+v) = %v, want a VALIDATION_ERROR", in, err)
			}
		default:
			if !errors.As(err, &e) || e.Code != orgdb.CodeForbidden || e.Reason != want {
				t.Fatalf("CheckSignup(%+v) = %v, want FORBIDDEN %s", in, err, want)
			}
		}
		if nerr == nil {
			in.Email = norm
			if again := access.CheckSignup(in); (again == nil) != (err == nil) || again != nil && again.Error() != err.Error() {
				t.Fatalf("CheckSignup of %q: %v, of its normalized form %q: %v", email, err, norm, again)
			}
		}
	})
}
