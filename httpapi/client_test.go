package httpapi_test

// The web client's wire types, as ../shared/seed/client-wire-types.md
// gives them (the other side of the contract: written by hand, like the
// Client namespace of tools/ts/client-compat.ts). A field the client
// declares optional is a pointer with omitempty; every other field is
// required. Responses decode into them strictly (decodeStrict): a field the
// client does not know fails, except the extras client-compat.ts lists as
// intended differences, marked below.

type clientUser struct {
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	Name           *string `json:"name,omitempty"`
	AvatarURL      *string `json:"avatarUrl,omitempty"`
	GithubID       *string `json:"githubId,omitempty"`
	GithubUsername *string `json:"githubUsername,omitempty"`
	Role           string  `json:"role"`
	CreatedAt      string  `json:"createdAt"`
	UpdatedAt      string  `json:"updatedAt"`
}

type clientOrgSettings struct {
	ID                    string  `json:"id"`
	Name                  string  `json:"name"`
	AllowedEmailDomain    *string `json:"allowedEmailDomain,omitempty"`
	AllowedEmails         *string `json:"allowedEmails,omitempty"` // comma-separated
	DomainGatingEnabled   bool    `json:"domainGatingEnabled"`
	EmailAllowlistEnabled bool    `json:"emailAllowlistEnabled"`
	CreatedAt             string  `json:"createdAt"`
	UpdatedAt             string  `json:"updatedAt"`
}

type clientOrgAPIKey struct {
	ID        string `json:"id"`
	Provider  string `json:"provider"`
	IsSet     bool   `json:"isSet"`
	SetBy     string `json:"setBy"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	// Extra (client-compat.ts difference 3): the sealing key's
	// fingerprint; the client ignores it.
	SealedWith *string `json:"sealedWith,omitempty"`
}

type clientInvite struct {
	ID         string  `json:"id"`
	Email      string  `json:"email"`
	Role       string  `json:"role"`
	InvitedBy  string  `json:"invitedBy"`
	AcceptedAt *string `json:"acceptedAt,omitempty"`
	ExpiresAt  string  `json:"expiresAt"`
	CreatedAt  string  `json:"createdAt"`
}

// clientListedInvite is an invite of GET /api/admin/invites.
type clientListedInvite struct {
	clientInvite
	// Extra (client-compat.ts difference 3): pending, accepted or expired
	// at the server's clock; the client computes its own.
	Status string `json:"status"`
}

type clientOK struct {
	OK bool `json:"ok"`
}

type clientMe struct {
	User      clientUser `json:"user"`
	Providers struct {
		GitHub bool `json:"github"`
		Google bool `json:"google"`
	} `json:"providers"`
}

type clientError struct {
	Error   string         `json:"error"`
	Code    string         `json:"code"`
	Details map[string]any `json:"details,omitempty"`
}
