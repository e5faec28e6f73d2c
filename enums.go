package orgdb

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
)

// UserRole is a user's role in the organization (users.role, invites.role).
type UserRole string

// The roles. There is no default: an unknown or empty role is an error,
// never a member and never an admin.
const (
	RoleAdmin  UserRole = "admin"
	RoleMember UserRole = "member"
)

// UserRoles returns every valid value, in a fresh slice.
func UserRoles() []UserRole { return slices.Clone(userRoles) }

var userRoles = []UserRole{RoleAdmin, RoleMember}

// IntegrationScope says whom an integration belongs to (integrations.scope).
type IntegrationScope string

// The scopes.
const (
	ScopeUser IntegrationScope = "user"
	ScopeOrg  IntegrationScope = "org"
)

// IntegrationScopes returns every valid value, in a fresh slice.
func IntegrationScopes() []IntegrationScope { return slices.Clone(integrationScopes) }

var integrationScopes = []IntegrationScope{ScopeUser, ScopeOrg}

// Provider is an LLM provider whose API key the organization can store
// (org_api_keys.provider).
type Provider string

// The providers.
const (
	ProviderAnthropic Provider = "anthropic"
	ProviderOpenAI    Provider = "openai"
	ProviderGoogle    Provider = "google"
)

// Providers returns every valid value, in a fresh slice.
func Providers() []Provider { return slices.Clone(providers) }

var providers = []Provider{ProviderAnthropic, ProviderOpenAI, ProviderGoogle}

// EnvVar is the environment variable the service reads this provider's
// API key from when the organization has not set one: ANTHROPIC_API_KEY,
// OPENAI_API_KEY or GOOGLE_API_KEY.
func (p Provider) EnvVar() string { return strings.ToUpper(string(p)) + "_API_KEY" }

// InviteStatus is an invite's state, derived in SQL from accepted_at and
// expires_at (the view invites_with_status).
type InviteStatus string

// The invite statuses.
const (
	InvitePending  InviteStatus = "pending"
	InviteAccepted InviteStatus = "accepted"
	InviteExpired  InviteStatus = "expired"
)

// InviteStatuses returns every valid value, in a fresh slice.
func InviteStatuses() []InviteStatus { return slices.Clone(inviteStatuses) }

var inviteStatuses = []InviteStatus{InvitePending, InviteAccepted, InviteExpired}

// ParseUserRole returns the role named by s, or a validation error naming s
// and the allowed roles. It does not trim or fold case: stored values are
// exact.
func ParseUserRole(s string) (UserRole, error) { return parseEnum("role", s, userRoles) }

// ParseIntegrationScope returns the scope named by s or a validation error.
func ParseIntegrationScope(s string) (IntegrationScope, error) {
	return parseEnum("integration scope", s, integrationScopes)
}

// ParseProvider returns the provider named by s or a validation error.
func ParseProvider(s string) (Provider, error) { return parseEnum("provider", s, providers) }

// ParseInviteStatus returns the status named by s or a validation error.
func ParseInviteStatus(s string) (InviteStatus, error) {
	return parseEnum("invite status", s, inviteStatuses)
}

// Valid reports whether s is one of [InviteStatuses].
func (s InviteStatus) Valid() bool { return slices.Contains(inviteStatuses, s) }

// Scan reads a status; an unknown value is an error.
func (s *InviteStatus) Scan(src any) error { return scanEnum(s, src, ParseInviteStatus) }

// Value writes the status; an invalid status is refused.
func (s InviteStatus) Value() (driver.Value, error) { return valueEnum(s, ParseInviteStatus) }

// MarshalText encodes a valid status; JSON uses it.
func (s InviteStatus) MarshalText() ([]byte, error) { return marshalEnum(s, ParseInviteStatus) }

// UnmarshalText decodes a status and rejects unknown values.
func (s *InviteStatus) UnmarshalText(b []byte) error {
	return unmarshalEnum(s, b, ParseInviteStatus)
}

// Valid reports whether r is one of [UserRoles].
func (r UserRole) Valid() bool { return slices.Contains(userRoles, r) }

// Valid reports whether s is one of [IntegrationScopes].
func (s IntegrationScope) Valid() bool { return slices.Contains(integrationScopes, s) }

// Valid reports whether p is one of [Providers].
func (p Provider) Valid() bool { return slices.Contains(providers, p) }

// Scan reads a role from the database; an unknown value is an error.
func (r *UserRole) Scan(src any) error { return scanEnum(r, src, ParseUserRole) }

// Scan reads a scope from the database; an unknown value is an error.
func (s *IntegrationScope) Scan(src any) error { return scanEnum(s, src, ParseIntegrationScope) }

// Scan reads a provider from the database; an unknown value is an error.
func (p *Provider) Scan(src any) error { return scanEnum(p, src, ParseProvider) }

// Value writes the role; an invalid role is refused before reaching SQL.
func (r UserRole) Value() (driver.Value, error) { return valueEnum(r, ParseUserRole) }

// Value writes the scope; an invalid scope is refused before reaching SQL.
func (s IntegrationScope) Value() (driver.Value, error) { return valueEnum(s, ParseIntegrationScope) }

// Value writes the provider; an invalid provider is refused.
func (p Provider) Value() (driver.Value, error) { return valueEnum(p, ParseProvider) }

// MarshalText encodes a valid role; JSON uses it.
func (r UserRole) MarshalText() ([]byte, error) { return marshalEnum(r, ParseUserRole) }

// MarshalText encodes a valid scope; JSON uses it.
func (s IntegrationScope) MarshalText() ([]byte, error) {
	return marshalEnum(s, ParseIntegrationScope)
}

// MarshalText encodes a valid provider; JSON uses it.
func (p Provider) MarshalText() ([]byte, error) { return marshalEnum(p, ParseProvider) }

// UnmarshalText decodes a role and rejects unknown values; JSON uses it.
func (r *UserRole) UnmarshalText(b []byte) error { return unmarshalEnum(r, b, ParseUserRole) }

// UnmarshalText decodes a scope and rejects unknown values; JSON uses it.
func (s *IntegrationScope) UnmarshalText(b []byte) error {
	return unmarshalEnum(s, b, ParseIntegrationScope)
}

// UnmarshalText decodes a provider and rejects unknown values.
func (p *Provider) UnmarshalText(b []byte) error { return unmarshalEnum(p, b, ParseProvider) }

func parseEnum[T ~string](kind, s string, allowed []T) (T, error) {
	if slices.Contains(allowed, T(s)) {
		return T(s), nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = fmt.Sprintf("%q", string(a))
	}
	return "", Validation("invalid %s %q: must be one of %s", kind, s, strings.Join(names, ", ")).
		WithDetails("field", kind)
}

func scanEnum[T ~string](dst *T, src any, parse func(string) (T, error)) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
		return fmt.Errorf("scan %T: NULL is not a valid value", *dst)
	default:
		return fmt.Errorf("scan %T: unsupported type %T", *dst, src)
	}
	v, err := parse(s)
	if err != nil {
		return fmt.Errorf("scan %T: %w", *dst, err)
	}
	*dst = v
	return nil
}

func valueEnum[T ~string](v T, parse func(string) (T, error)) (driver.Value, error) {
	if _, err := parse(string(v)); err != nil {
		return nil, err
	}
	return string(v), nil
}

func marshalEnum[T ~string](v T, parse func(string) (T, error)) ([]byte, error) {
	if _, err := parse(string(v)); err != nil {
		return nil, err
	}
	return []byte(v), nil
}

func unmarshalEnum[T ~string](dst *T, b []byte, parse func(string) (T, error)) error {
	v, err := parse(string(b))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
