// Package access holds the organization's sign-up policy as a pure
// function: which email addresses may sign up. It reads no database;
// callers pass in what the rule needs (store.CreateUser does, in the
// transaction that creates the user). Who may perform each write is the
// store's to decide (store.Actor, store.Rule), where the actor's role is
// read.
package access

import (
	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
)

// Reasons of the FORBIDDEN errors returned here, in Error.Reason.
const (
	ReasonDomain         = "email_domain_not_allowed"
	ReasonAllowlist      = "email_not_on_allowlist"
	ReasonInviteRequired = "invite_required"
	ReasonNotAllowed     = "email_not_allowed"
)

// Signup is what the sign-up rule decides on.
type Signup struct {
	Email string
	// Settings is the organization's settings row.
	Settings db.OrgSettings
	// HasValidInvite: an invite for Email exists, not accepted, not expired.
	HasValidInvite bool
	// InvitesExist: the organization has created any invite at all.
	InvitesExist bool
	// AllowedEmails is the ALLOWED_EMAILS environment fallback.
	AllowedEmails orgdb.EmailList
}

// CheckSignup decides whether an email may sign up, and returns nil or the
// reason for the refusal as a FORBIDDEN error (a malformed email is a
// VALIDATION_ERROR). The rules, in order:
//
//  1. Domain gating on: the email's domain must equal the allowed domain
//     (case-insensitive and exact: neither evilacme.com nor
//     acme.com.evil.io matches acme.com).
//  2. Email allowlist on: the email must be on the list (trimmed,
//     case-insensitive).
//  3. If either is on, passing both of those that are on is enough.
//  4. Neither on: a valid invite admits; else ALLOWED_EMAILS, if set,
//     admits the addresses it lists; else, if the organization has no
//     invites at all, sign-up is open; else an invite is required.
func CheckSignup(in Signup) error {
	email, err := orgdb.NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	s := in.Settings
	if s.DomainGatingEnabled || s.EmailAllowlistEnabled {
		if s.DomainGatingEnabled {
			domain := ""
			if s.AllowedEmailDomain != nil {
				domain, _ = orgdb.NormalizeDomain(*s.AllowedEmailDomain)
			}
			if domain == "" || orgdb.EmailDomain(email) != domain {
				return orgdb.Forbidden("Sign-up is restricted to addresses at the organization's domain").
					WithReason(ReasonDomain)
			}
		}
		if s.EmailAllowlistEnabled && !s.AllowedEmails.Contains(email) {
			return orgdb.Forbidden("This email is not on the organization's allowlist").WithReason(ReasonAllowlist)
		}
		return nil
	}
	switch {
	case in.HasValidInvite:
		return nil
	case len(in.AllowedEmails) > 0:
		if in.AllowedEmails.Contains(email) {
			return nil
		}
		return orgdb.Forbidden("This email is not allowed to sign up").WithReason(ReasonNotAllowed)
	case !in.InvitesExist:
		return nil // nothing configured: open sign-up
	default:
		return orgdb.Forbidden("An invite is required to sign up").WithReason(ReasonInviteRequired)
	}
}
