package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
)

// OrgSettingsPatch is a partial update of the organization's settings:
// a nil field is left exactly as it is.
type OrgSettingsPatch struct {
	Name *string `json:"name,omitempty"`
	// AllowedEmailDomain: a pointer to "" clears the domain.
	AllowedEmailDomain *string `json:"allowedEmailDomain,omitempty"`
	// AllowedEmails replaces the allowlist; an empty list clears it. In
	// JSON it is the web client's comma-separated string ("" clears), or
	// an array.
	AllowedEmails         *orgdb.EmailList `json:"allowedEmails,omitempty"`
	DomainGatingEnabled   *bool            `json:"domainGatingEnabled,omitempty"`
	EmailAllowlistEnabled *bool            `json:"emailAllowlistEnabled,omitempty"`
}

// GetOrgSettings returns the organization's settings. Errors:
// INTERNAL_ERROR (NOT_FOUND only if the migrated settings row was deleted).
func (s *Store) GetOrgSettings(ctx context.Context) (db.OrgSettings, error) {
	o, err := s.rq.GetOrgSettings(ctx)
	return o, Translate(err, "org settings")
}

// UpdateOrgSettings applies a partial update and returns the new settings.
// It reads, merges, validates and writes in one IMMEDIATE transaction, so
// concurrent patches of different fields do not undo each other. The
// result must be valid as a whole: a non-empty name; gating on requires a
// valid domain; every allowlist entry must be a valid email, and the
// allowlist on requires at least one. A refused patch changes nothing.
// It does not check who asks: the service calls [access.RequireAdmin]
// first. Errors: VALIDATION_ERROR, INTERNAL_ERROR.
func (s *Store) UpdateOrgSettings(ctx context.Context, p OrgSettingsPatch) (db.OrgSettings, error) {
	var out db.OrgSettings
	err := s.Tx(ctx, func(q *db.Queries) error {
		cur, err := q.GetOrgSettings(ctx)
		if err != nil {
			return Translate(err, "org settings")
		}
		next := db.UpdateOrgSettingsParams{
			Name:                  cur.Name,
			AllowedEmailDomain:    cur.AllowedEmailDomain,
			AllowedEmails:         cur.AllowedEmails,
			DomainGatingEnabled:   cur.DomainGatingEnabled,
			EmailAllowlistEnabled: cur.EmailAllowlistEnabled,
			UpdatedAt:             s.Now(),
		}
		if p.Name != nil {
			next.Name = strings.TrimSpace(*p.Name)
			if next.Name == "" || len(next.Name) > 200 {
				return orgdb.Validation("organization name must be 1–200 characters").WithDetails("field", "name")
			}
		}
		if p.AllowedEmailDomain != nil {
			next.AllowedEmailDomain = nil
			if strings.TrimSpace(*p.AllowedEmailDomain) != "" {
				d, err := orgdb.NormalizeDomain(*p.AllowedEmailDomain)
				if err != nil {
					return err
				}
				next.AllowedEmailDomain = &d
			}
		}
		if p.AllowedEmails != nil {
			next.AllowedEmails = orgdb.NewEmailList(*p.AllowedEmails...)
			if err := next.AllowedEmails.Validate(); err != nil {
				return err
			}
		}
		if p.DomainGatingEnabled != nil {
			next.DomainGatingEnabled = *p.DomainGatingEnabled
		}
		if p.EmailAllowlistEnabled != nil {
			next.EmailAllowlistEnabled = *p.EmailAllowlistEnabled
		}
		if next.DomainGatingEnabled {
			if next.AllowedEmailDomain == nil {
				return orgdb.Validation("domain gating requires an allowed email domain").WithDetails("field", "allowedEmailDomain")
			}
			if _, err := orgdb.NormalizeDomain(*next.AllowedEmailDomain); err != nil {
				return err
			}
		}
		if next.EmailAllowlistEnabled {
			if len(next.AllowedEmails) == 0 {
				return orgdb.Validation("the email allowlist is enabled but empty").WithDetails("field", "allowedEmails")
			}
			if err := next.AllowedEmails.Validate(); err != nil {
				return err
			}
		}
		out, err = q.UpdateOrgSettings(ctx, next)
		return Translate(err, "org settings")
	})
	return out, err
}

// CheckSignup applies [access.CheckSignup] to email with what the database
// holds, read from one snapshot: the settings, whether email has a valid
// invite and whether any invite exists. envAllowed is the ALLOWED_EMAILS
// fallback (see orgdb.ParseEmailList). It returns nil or the refusal.
// Errors: VALIDATION_ERROR (email), FORBIDDEN (with the reason),
// INTERNAL_ERROR.
func (s *Store) CheckSignup(ctx context.Context, email string, envAllowed orgdb.EmailList) error {
	norm, err := orgdb.NormalizeEmail(email)
	if err != nil {
		return err
	}
	in := access.Signup{Email: norm, AllowedEmails: envAllowed}
	err = s.ReadTx(ctx, func(q *db.Queries) (err error) {
		if in.Settings, err = q.GetOrgSettings(ctx); err != nil {
			return Translate(err, "org settings")
		}
		_, err = q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: norm, Now: s.Now()})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Translate(err, "invite")
		}
		in.HasValidInvite = err == nil
		if in.InvitesExist, err = q.HasInvites(ctx); err != nil {
			return Translate(err, "invites")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return access.CheckSignup(in)
}
