package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
)

// Reasons of the errors returned by the user operations, in Error.Reason.
const (
	ReasonLastAdmin      = "last_admin"
	ReasonDeleteSelf     = "delete_self"
	ReasonUserReferenced = "user_referenced"
	ReasonUserExists     = "user_exists"
)

// ErrLastAdmin matches (errors.Is) the refusal to demote or delete the
// last admin.
var ErrLastAdmin = &orgdb.Error{Code: orgdb.CodeConflict, Reason: ReasonLastAdmin}

// NewUser is a sign-up.
type NewUser struct {
	Email          string
	Name           *string
	AvatarURL      *string
	GithubID       *string
	GithubUsername *string
}

// GetUser returns the user with this id. Errors: VALIDATION_ERROR (empty
// id), NOT_FOUND, INTERNAL_ERROR.
func (s *Store) GetUser(ctx context.Context, id string) (db.User, error) {
	if err := requireID("user id", id); err != nil {
		return db.User{}, err
	}
	u, err := s.rq.GetUser(ctx, id)
	return u, Translate(err, "user")
}

// GetUserByEmail returns the user with this email, compared
// case-insensitively after trimming spaces. Errors: VALIDATION_ERROR (empty
// email), NOT_FOUND, INTERNAL_ERROR.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (db.User, error) {
	if err := requireID("email", email); err != nil {
		return db.User{}, err
	}
	u, err := s.rq.GetUserByEmail(ctx, email)
	return u, Translate(err, "user "+strings.TrimSpace(email))
}

// ListUsersOptions selects a page of [Store.ListUsers].
type ListUsersOptions struct {
	// Limit is the page size: 0 means DefaultUserPage, at most MaxUserPage.
	Limit int
	// AfterCreatedAt and AfterID are the cursor: the CreatedAt and ID of
	// the last user of the previous page. Zero for the first page.
	AfterCreatedAt orgdb.Time
	AfterID        string
}

// Page sizes of ListUsers.
const (
	DefaultUserPage = 100
	MaxUserPage     = 1000
)

// startOfTime is a cursor before every user: the first page.
var startOfTime = orgdb.NewTime(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))

// ListUsers returns a page of users, oldest first (users created within
// one second in the order they signed up). For the next page pass the last user's
// CreatedAt and ID; a page shorter than the limit is the last. A page costs
// the same however many users exist. Errors: VALIDATION_ERROR (page size),
// INTERNAL_ERROR.
func (s *Store) ListUsers(ctx context.Context, opts ListUsersOptions) ([]db.User, error) {
	limit, err := pageSize(opts.Limit, DefaultUserPage, MaxUserPage)
	if err != nil {
		return nil, err
	}
	p := db.ListUsersParams{AfterCreatedAt: opts.AfterCreatedAt, AfterID: opts.AfterID, PageSize: int64(limit)}
	if p.AfterCreatedAt.IsZero() {
		p.AfterCreatedAt, p.AfterID = startOfTime, ""
	}
	users, err := s.rq.ListUsers(ctx, p)
	return users, Translate(err, "users")
}

// CountUsers returns how many users the organization has. Errors:
// INTERNAL_ERROR.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	n, err := s.rq.CountUsers(ctx)
	return n, Translate(err, "users")
}

// CountAdmins returns how many admins the organization has. Errors:
// INTERNAL_ERROR.
func (s *Store) CountAdmins(ctx context.Context) (int64, error) {
	n, err := s.rq.CountAdmins(ctx)
	return n, Translate(err, "users")
}

// pageSize applies a page size's default and bounds.
func pageSize(limit, def, maxSize int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 0 || limit > maxSize:
		return 0, orgdb.Validation("page size %d: must be 1–%d", limit, maxSize).WithDetails("field", "limit")
	}
	return limit, nil
}

// CreateUser signs a user up, in one IMMEDIATE transaction: the first user
// of the organization becomes admin (two simultaneous first sign-ups yield
// one admin); a user with a valid invite gets the invite's role and the
// invite is marked accepted; anyone else is a member. The email is trimmed,
// lower-cased and validated; an email already taken (in any case) is a
// CONFLICT. CreateUser does not apply the sign-up policy: call
// [Store.CheckSignup] first where sign-up is restricted.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (db.User, error) {
	email, err := orgdb.NormalizeEmail(in.Email)
	if err != nil {
		return db.User{}, err
	}
	var u db.User
	err = s.Tx(ctx, func(q *db.Queries) error {
		if _, err := q.GetUserByEmail(ctx, email); err == nil {
			return orgdb.Conflict("a user with email %s already exists", email).WithReason(ReasonUserExists)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return Translate(err, "user")
		}
		role := orgdb.RoleMember
		anyUser, err := q.HasUsers(ctx)
		if err != nil {
			return Translate(err, "user")
		}
		if !anyUser {
			role = orgdb.RoleAdmin
		}
		now := s.Now()
		inv, err := q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: email, Now: now})
		switch {
		case err == nil:
			if role != orgdb.RoleAdmin {
				role = inv.Role
			}
			if _, err := q.AcceptInvite(ctx, db.AcceptInviteParams{AcceptedAt: &now, ID: inv.ID, Now: now}); err != nil {
				return Translate(err, "invite")
			}
		case !errors.Is(err, sql.ErrNoRows):
			return Translate(err, "invite")
		}
		u, err = q.InsertUser(ctx, db.InsertUserParams{
			ID: orgdb.NewID(), Email: email, Name: in.Name, AvatarURL: in.AvatarURL,
			GithubID: in.GithubID, GithubUsername: in.GithubUsername, Role: role,
		})
		return Translate(err, "user")
	})
	return u, err
}

// UpdateUserRole sets a user's role and returns the user. Demoting the last
// admin is a CONFLICT (reason last_admin) and changes nothing; the guard is
// part of the UPDATE statement. It does not check who asks: the service
// calls [access.RequireAdmin] on the caller first. Errors: VALIDATION_ERROR
// (empty id, unknown role), NOT_FOUND, CONFLICT (reason last_admin),
// INTERNAL_ERROR.
func (s *Store) UpdateUserRole(ctx context.Context, id string, role orgdb.UserRole) (db.User, error) {
	if err := requireID("user id", id); err != nil {
		return db.User{}, err
	}
	if _, err := orgdb.ParseUserRole(string(role)); err != nil {
		return db.User{}, err
	}
	var u db.User
	err := s.Tx(ctx, func(q *db.Queries) error {
		n, err := q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: role, Now: s.Now(), ID: id})
		if err != nil {
			return Translate(err, "user")
		}
		u, err = q.GetUser(ctx, id)
		if err != nil {
			return Translate(err, "user")
		}
		if n == 0 {
			return orgdb.Conflict("cannot demote the last admin").WithReason(ReasonLastAdmin)
		}
		return nil
	})
	if err != nil {
		return db.User{}, err
	}
	return u, nil
}

// DeleteUserOptions says how [Store.DeleteUser] treats rows that refer to
// the user.
type DeleteUserOptions struct {
	// ReassignToActor moves the invites the user sent, the org API keys
	// they set and the org-scoped integrations they own to the actor, then
	// deletes the user. Without it, such references are a CONFLICT (reason
	// user_referenced) that names them, and nothing changes.
	ReassignToActor bool
}

// DeleteUser deletes target on behalf of actor, in one IMMEDIATE
// transaction. The actor must be an admin (FORBIDDEN otherwise) and cannot
// delete themself (FORBIDDEN, reason delete_self); deleting the last admin
// is a CONFLICT (reason last_admin). The user's own (user-scoped)
// integrations are deleted with them. Either the user is deleted with all
// that goes with them or nothing changes. Errors: VALIDATION_ERROR (empty
// id), UNAUTHORIZED (unknown actor), FORBIDDEN, NOT_FOUND (target),
// CONFLICT (reasons last_admin, user_referenced), INTERNAL_ERROR.
func (s *Store) DeleteUser(ctx context.Context, actorID, targetID string, opts DeleteUserOptions) error {
	if err := requireID("actor id", actorID); err != nil {
		return err
	}
	if err := requireID("user id", targetID); err != nil {
		return err
	}
	if actorID == targetID {
		return orgdb.Forbidden("you cannot delete yourself").WithReason(ReasonDeleteSelf)
	}
	return s.Tx(ctx, func(q *db.Queries) error {
		if err := requireAdminID(ctx, q, actorID); err != nil {
			return err
		}
		if _, err := q.GetUser(ctx, targetID); err != nil {
			return Translate(err, "user")
		}
		refs, err := q.CountUserReferences(ctx, targetID)
		if err != nil {
			return Translate(err, "user")
		}
		if refs.Invites+refs.OrgAPIKeys+refs.OrgIntegrations > 0 {
			if !opts.ReassignToActor {
				return orgdb.Conflict("user is still referenced by %s; reassign them to delete the user", describeRefs(refs)).
					WithReason(ReasonUserReferenced).
					WithDetails("invites", refs.Invites).
					WithDetails("orgApiKeys", refs.OrgAPIKeys).
					WithDetails("orgIntegrations", refs.OrgIntegrations)
			}
			move := db.ReassignInvitesParams{ToUser: actorID, FromUser: targetID}
			if _, err := q.ReassignInvites(ctx, move); err != nil {
				return Translate(err, "invites")
			}
			if _, err := q.ReassignOrgAPIKeys(ctx, db.ReassignOrgAPIKeysParams(move)); err != nil {
				return Translate(err, "org API keys")
			}
			if _, err := q.ReassignOrgIntegrations(ctx, db.ReassignOrgIntegrationsParams(move)); err != nil {
				return Translate(err, "org integrations (the actor may own one for the same service)")
			}
		}
		n, err := q.DeleteUser(ctx, targetID)
		if err != nil {
			return Translate(err, "user")
		}
		if n == 0 {
			return orgdb.Conflict("cannot delete the last admin").WithReason(ReasonLastAdmin)
		}
		return nil
	})
}

func describeRefs(r db.CountUserReferencesRow) string {
	var parts []string
	for _, p := range []struct {
		n    int64
		what string
	}{{r.Invites, "invite"}, {r.OrgAPIKeys, "org API key"}, {r.OrgIntegrations, "org integration"}} {
		if p.n == 1 {
			parts = append(parts, "1 "+p.what)
		} else if p.n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// BootstrapAdmin promotes the user with this email (ADMIN_EMAIL) to admin
// if, and only if, the organization has no admin; the check and the update
// are one statement. It reports whether it promoted. Errors:
// VALIDATION_ERROR (email), NOT_FOUND (no such user), INTERNAL_ERROR.
func (s *Store) BootstrapAdmin(ctx context.Context, email string) (bool, error) {
	email, err := orgdb.NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	var n int64
	err = s.write(func(q *db.Queries) (err error) {
		n, err = q.BootstrapAdmin(ctx, db.BootstrapAdminParams{Now: s.Now(), Email: email})
		return err
	})
	if err != nil {
		return false, Translate(err, "user")
	}
	if n > 0 {
		return true, nil
	}
	if _, err := s.GetUserByEmail(ctx, email); err != nil {
		return false, err
	}
	return false, nil
}

// requireAdminID loads the acting user and requires them to be an admin.
// Inside the IMMEDIATE transaction the role cannot change before commit.
func requireAdminID(ctx context.Context, q *db.Queries, id string) error {
	actor, err := q.GetUser(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return orgdb.Unauthorized("unknown user %q", id)
	}
	if err != nil {
		return Translate(err, "user")
	}
	return access.RequireAdmin(actor)
}

// requireID refuses an empty or blank identifier.
func requireID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return orgdb.Validation("%s is required", what).WithDetails("field", what)
	}
	return nil
}
