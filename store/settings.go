package store

import (
	"context"
	"strings"

	"github.com/agentops/orgdb"
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

// UpdateOrgSettings applies a partial update on behalf of by, an admin,
// and returns the new settings. It reads, merges, validates and writes in
// one IMMEDIATE transaction, so concurrent patches of different fields do
// not undo each other. The result must be valid as a whole: a name of one
// line of printable text, 1–200 characters; gating on requires a valid
// domain; every allowlist entry must be a valid email, and the allowlist
// on requires at least one. A refused patch changes nothing. Errors:
// VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, INTERNAL_ERROR.
func (s *Store) UpdateOrgSettings(ctx context.Context, by Actor, p OrgSettingsPatch) (db.OrgSettings, error) {
	return writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.OrgSettings, error) {
		cur, err := t.q.GetOrgSettings(ctx)
		if err != nil {
			return db.OrgSettings{}, Translate(err, "org settings")
		}
		next := db.UpdateOrgSettingsParams{
			Name:                  cur.Name,
			AllowedEmailDomain:    cur.AllowedEmailDomain,
			AllowedEmails:         cur.AllowedEmails,
			DomainGatingEnabled:   cur.DomainGatingEnabled,
			EmailAllowlistEnabled: cur.EmailAllowlistEnabled,
			UpdatedAt:             t.now,
		}
		if err := p.apply(&next); err != nil {
			return db.OrgSettings{}, err
		}
		out, err := t.q.UpdateOrgSettings(ctx, next)
		return out, Translate(err, "org settings")
	})
}

// apply merges the patch into next and validates the result.
func (p OrgSettingsPatch) apply(next *db.UpdateOrgSettingsParams) error {
	if p.Name != nil {
		next.Name = strings.TrimSpace(*p.Name)
		if next.Name == "" || len(next.Name) > 200 {
			return orgdb.Validation("organization name must be 1–200 characters").WithDetails("field", "name")
		}
		if err := checkText("name", next.Name); err != nil {
			return err
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
	return nil
}
