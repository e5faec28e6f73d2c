package main

import (
	"github.com/agentops/orgdb"
)

// The GORM models, as a developer would write them for this schema: the
// column types reuse orgdb's, so GORM reads the same values.

type gUser struct {
	ID             string `gorm:"primaryKey"`
	Email          string
	Name           *string
	AvatarURL      *string
	GithubID       *string
	GithubUsername *string
	Role           orgdb.UserRole
	CreatedAt      orgdb.Time
	UpdatedAt      orgdb.Time
}

func (gUser) TableName() string { return "users" }

type gInvite struct {
	ID         string `gorm:"primaryKey"`
	Email      string
	Role       orgdb.UserRole
	InvitedBy  string
	AcceptedAt *orgdb.Time
	ExpiresAt  orgdb.Time
	CreatedAt  orgdb.Time
}

func (gInvite) TableName() string { return "invites" }

// status derives the invite's status in Go, as a GORM user would.
func (i gInvite) status(now orgdb.Time) orgdb.InviteStatus {
	switch {
	case i.AcceptedAt != nil:
		return orgdb.InviteAccepted
	case !i.ExpiresAt.After(now.Time):
		return orgdb.InviteExpired
	default:
		return orgdb.InvitePending
	}
}

type gOrgSettings struct {
	ID                    string `gorm:"primaryKey"`
	Name                  string
	AllowedEmailDomain    *string
	AllowedEmails         orgdb.EmailList `gorm:"type:text"`
	DomainGatingEnabled   bool
	EmailAllowlistEnabled bool
	CreatedAt             orgdb.Time
	UpdatedAt             orgdb.Time
}

func (gOrgSettings) TableName() string { return "org_settings" }

type gOrgAPIKey struct {
	ID           string `gorm:"primaryKey"`
	Provider     orgdb.Provider
	EncryptedKey string
	SetBy        string
	CreatedAt    orgdb.Time
	UpdatedAt    orgdb.Time
}

func (gOrgAPIKey) TableName() string { return "org_api_keys" }
