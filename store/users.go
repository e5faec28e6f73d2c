package store

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/agentops/orgdb"
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

// AllUsers yields every user, oldest first, a page at a time (see
// [Store.ListUsers]; each page is read on its own), and stops at the
// first error, which it yields with the zero User.
//
//	for u, err := range st.AllUsers(ctx) {
//		if err != nil {
//			return err
//		}
//		…
//	}
func (s *Store) AllUsers(ctx context.Context) iter.Seq2[db.User, error] {
	return everyRow(DefaultUserPage, func(last *db.User) ([]db.User, error) {
		var o ListUsersOptions
		if last != nil {
			o.AfterCreatedAt, o.AfterID = last.CreatedAt, last.ID
		}
		return s.ListUsers(ctx, o)
	})
}

// everyRow is the keyset page loop of the All* iterators: page reads the
// page after last (nil for the first), of size rows; a shorter page is
// the last.
func everyRow[T any](size int, page func(last *T) ([]T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var last *T
		for {
			rows, err := page(last)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
			if len(rows) < size {
				return
			}
			last = &rows[len(rows)-1]
		}
	}
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

// UpdateUserRole sets a user's role on behalf of by, an admin, and returns
// the user. Demoting the last admin is a CONFLICT (reason last_admin) and
// changes nothing; the guard is part of the UPDATE statement. Errors:
// VALIDATION_ERROR (empty id, unknown role), UNAUTHORIZED (no or unknown
// actor), FORBIDDEN (not an admin), NOT_FOUND, CONFLICT (reason
// last_admin), INTERNAL_ERROR.
func (s *Store) UpdateUserRole(ctx context.Context, by Actor, id string, role orgdb.UserRole) (db.User, error) {
	if err := requireID("user id", id); err != nil {
		return db.User{}, err
	}
	if _, err := orgdb.ParseUserRole(string(role)); err != nil {
		return db.User{}, err
	}
	return writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.User, error) {
		n, err := t.q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: role, Now: t.now, ID: id})
		if err != nil {
			return db.User{}, Translate(err, "user")
		}
		if n > 0 {
			u, err := t.q.GetUser(ctx, id)
			return u, Translate(err, "user")
		}
		// No row: no such user, or the guard refused.
		if _, err := t.q.GetUserRole(ctx, id); err != nil {
			return db.User{}, Translate(err, "user")
		}
		return db.User{}, orgdb.Conflict("cannot demote the last admin").WithReason(ReasonLastAdmin)
	})
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

// DeleteUser deletes target on behalf of by, an admin, in one IMMEDIATE
// transaction. An admin cannot delete themself (FORBIDDEN, reason
// delete_self); deleting the last admin is a CONFLICT (reason last_admin).
// The user's own (user-scoped) integrations are deleted with them. Either
// the user is deleted with all that goes with them or nothing changes.
// Errors: VALIDATION_ERROR (empty id), UNAUTHORIZED (no or unknown actor),
// FORBIDDEN, NOT_FOUND (target), CONFLICT (reasons last_admin,
// user_referenced), INTERNAL_ERROR.
func (s *Store) DeleteUser(ctx context.Context, by Actor, targetID string, opts DeleteUserOptions) error {
	if err := requireID("user id", targetID); err != nil {
		return err
	}
	if by.UserID() == targetID {
		return orgdb.Forbidden("you cannot delete yourself").WithReason(ReasonDeleteSelf)
	}
	_, err := writeTx(ctx, s, by, AdminOnly, func(t wtx) (struct{}, error) {
		q := t.q
		if _, err := q.GetUser(ctx, targetID); err != nil {
			return struct{}{}, Translate(err, "user")
		}
		refs, err := q.CountUserReferences(ctx, targetID)
		if err != nil {
			return struct{}{}, Translate(err, "user")
		}
		if refs.Invites+refs.OrgAPIKeys+refs.OrgIntegrations > 0 {
			if !opts.ReassignToActor {
				return struct{}{}, orgdb.Conflict("user is still referenced by %s; reassign them to delete the user", describeRefs(refs)).
					WithReason(ReasonUserReferenced).
					WithDetails("invites", refs.Invites).
					WithDetails("orgApiKeys", refs.OrgAPIKeys).
					WithDetails("orgIntegrations", refs.OrgIntegrations)
			}
			move := db.ReassignInvitesParams{ToUser: t.actorID, FromUser: targetID}
			if _, err := q.ReassignInvites(ctx, move); err != nil {
				return struct{}{}, Translate(err, "invites")
			}
			if _, err := q.ReassignOrgAPIKeys(ctx, db.ReassignOrgAPIKeysParams(move)); err != nil {
				return struct{}{}, Translate(err, "org API keys")
			}
			if _, err := q.ReassignOrgIntegrations(ctx, db.ReassignOrgIntegrationsParams(move)); err != nil {
				return struct{}{}, Translate(err, "org integrations (the actor may own one for the same service)")
			}
		}
		n, err := q.DeleteUser(ctx, targetID)
		if err != nil {
			return struct{}{}, Translate(err, "user")
		}
		if n == 0 {
			return struct{}{}, orgdb.Conflict("cannot delete the last admin").WithReason(ReasonLastAdmin)
		}
		return struct{}{}, nil
	})
	return err
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
// are one statement. Only the operator may (the service at startup, `orgdb
// admin bootstrap`): with no admin, no user can. It reports whether it
// promoted. Errors: VALIDATION_ERROR (email), UNAUTHORIZED, FORBIDDEN (a
// user), NOT_FOUND (no such user), INTERNAL_ERROR.
func (s *Store) BootstrapAdmin(ctx context.Context, by Actor, email string) (bool, error) {
	email, err := orgdb.NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	return writeOne(ctx, s, by, OperatorOnly, func(t wtx) (bool, error) {
		n, err := t.q.BootstrapAdmin(ctx, db.BootstrapAdminParams{Now: t.now, Email: email})
		if err != nil {
			return false, Translate(err, "user")
		}
		if n > 0 {
			return true, nil
		}
		if _, err := t.q.GetUserByEmail(ctx, email); err != nil {
			return false, Translate(err, "user "+email)
		}
		return false, nil
	})
}

// requireID refuses an empty or blank identifier.
func requireID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return orgdb.Validation("%s is required", what).WithDetails("field", what)
	}
	return nil
}
