package store

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
)

// Reasons of the errors returned by the invite operations, in Error.Reason.
const (
	ReasonInviteAccepted = "invite_accepted"
	ReasonInviteExpired  = "invite_expired"
)

// Sentinels for errors.Is: an invite that cannot be accepted says why.
var (
	ErrInviteAccepted = &orgdb.Error{Code: orgdb.CodeConflict, Reason: ReasonInviteAccepted}
	ErrInviteExpired  = &orgdb.Error{Code: orgdb.CodeConflict, Reason: ReasonInviteExpired}
)

// NewInvite is an invitation to join the organization.
type NewInvite struct {
	Email string `json:"email"`
	// Role is the role the invitee gets; empty means member.
	Role orgdb.UserRole `json:"role,omitempty"`
	// TTL is how long the invite stays valid; zero means the store's
	// default (7 days unless configured with WithInviteTTL). Not part of
	// a request body either.
	TTL time.Duration `json:"-"`
}

// CreateInvite invites an email on behalf of by, an admin, who is recorded
// as the inviter, in one IMMEDIATE transaction. The email is trimmed,
// lower-cased and validated and the role validated (VALIDATION_ERROR
// otherwise). There is one invite per email: inviting an email with a
// pending, expired or accepted invite replaces it with a fresh one (new id,
// role and expiry). Inviting the email of an existing user is a CONFLICT
// (reason user_exists). Errors: VALIDATION_ERROR, UNAUTHORIZED (no or
// unknown actor), FORBIDDEN (not an admin), CONFLICT, INTERNAL_ERROR.
func (s *Store) CreateInvite(ctx context.Context, by Actor, in NewInvite) (db.Invite, error) {
	email, err := orgdb.NormalizeEmail(in.Email)
	if err != nil {
		return db.Invite{}, err
	}
	if in.Role == "" {
		in.Role = orgdb.RoleMember
	}
	if _, err := orgdb.ParseUserRole(string(in.Role)); err != nil {
		return db.Invite{}, err
	}
	ttl := in.TTL
	if ttl == 0 {
		ttl = s.inviteTTL
	}
	if ttl < 0 {
		return db.Invite{}, orgdb.Validation("invite TTL %v must be positive", ttl)
	}
	return writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.Invite, error) {
		if u, err := t.q.GetUserByEmail(ctx, email); err == nil {
			// "already an admin", not "already a member", for an admin.
			as := "a member"
			if u.Role == orgdb.RoleAdmin {
				as = "an admin"
			}
			return db.Invite{}, orgdb.Conflict("%s is already %s of the organization", email, as).WithReason(ReasonUserExists)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return db.Invite{}, Translate(err, "user")
		}
		inv, err := t.q.UpsertInvite(ctx, db.UpsertInviteParams{
			ID: orgdb.NewID(), Email: email, Role: in.Role, InvitedBy: t.actorID,
			ExpiresAt: orgdb.NewTime(t.now.Add(ttl)), CreatedAt: t.now,
		})
		return inv, Translate(err, "invite")
	})
}

// GetInvite returns the invite with this id, whatever its status. Errors:
// VALIDATION_ERROR (empty id), NOT_FOUND, INTERNAL_ERROR.
func (s *Store) GetInvite(ctx context.Context, id string) (db.Invite, error) {
	if err := requireID("invite id", id); err != nil {
		return db.Invite{}, err
	}
	inv, err := s.rq.GetInvite(ctx, id)
	return inv, Translate(err, "invite")
}

// ValidInvite returns the invite for email if it is neither accepted nor
// expired at the store's current time; the email is compared
// case-insensitively. Errors: VALIDATION_ERROR (empty email), NOT_FOUND (no
// valid invite), INTERNAL_ERROR.
func (s *Store) ValidInvite(ctx context.Context, email string) (db.Invite, error) {
	if err := requireID("email", email); err != nil {
		return db.Invite{}, err
	}
	inv, err := s.rq.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: email, Now: s.Now()})
	return inv, Translate(err, "valid invite")
}

// AcceptInvite marks the invite accepted, outside a sign-up (a sign-up,
// [Store.CreateUser], accepts the invite itself): only the operator may,
// such as a service whose sign-up flow is its own. Of any number of
// simultaneous calls exactly one succeeds: the guard is part of the
// UPDATE. An invite already accepted or expired is a CONFLICT that says
// which (errors.Is(err, ErrInviteAccepted) / ErrInviteExpired). Errors: VALIDATION_ERROR (empty id), UNAUTHORIZED,
// FORBIDDEN (a user), NOT_FOUND, CONFLICT, INTERNAL_ERROR.
func (s *Store) AcceptInvite(ctx context.Context, by Actor, id string) (db.Invite, error) {
	if err := requireID("invite id", id); err != nil {
		return db.Invite{}, err
	}
	return writeOne(ctx, s, by, OperatorOnly, func(t wtx) (db.Invite, error) {
		inv, err := t.q.AcceptInvite(ctx, db.AcceptInviteParams{AcceptedAt: &t.now, ID: id, Now: t.now})
		if err == nil {
			return inv, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return db.Invite{}, Translate(err, "invite")
		}
		// Not accepted: say why, from the row as it is now.
		cur, err := t.q.GetInvite(ctx, id)
		switch {
		case err != nil:
			return db.Invite{}, Translate(err, "invite")
		case cur.AcceptedAt != nil:
			return db.Invite{}, orgdb.Conflict("invite already accepted").WithReason(ReasonInviteAccepted)
		default:
			return db.Invite{}, orgdb.Conflict("invite expired").WithReason(ReasonInviteExpired)
		}
	})
}

// ListInvitesOptions selects a page of [Store.ListInvites].
type ListInvitesOptions struct {
	// Limit is the page size: 0 means DefaultInvitePage, at most
	// MaxInvitePage.
	Limit int
	// BeforeCreatedAt and BeforeID are the cursor: the CreatedAt and ID of
	// the last invite of the previous page. Zero for the first page.
	BeforeCreatedAt orgdb.Time
	BeforeID        string
}

// Page sizes of ListInvites.
const (
	DefaultInvitePage = 100
	MaxInvitePage     = 1000
)

// endOfTime is a cursor after every invite: the first page.
var endOfTime = orgdb.NewTime(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC))

// ListInvites returns a page of invites, newest first, each with its status
// at the store's current time. For the next page pass the last row's
// CreatedAt and ID; a page shorter than the limit is the last. A page costs
// the same however many invites exist. Errors: VALIDATION_ERROR (page
// size), INTERNAL_ERROR.
func (s *Store) ListInvites(ctx context.Context, opts ListInvitesOptions) ([]db.ListInvitesRow, error) {
	limit, err := pageSize(opts.Limit, DefaultInvitePage, MaxInvitePage)
	if err != nil {
		return nil, err
	}
	p := db.ListInvitesParams{Now: s.Now(), BeforeCreatedAt: opts.BeforeCreatedAt, BeforeID: opts.BeforeID, PageSize: int64(limit)}
	if p.BeforeCreatedAt.IsZero() {
		p.BeforeCreatedAt, p.BeforeID = endOfTime, ""
	}
	invs, err := s.rq.ListInvites(ctx, p)
	return invs, Translate(err, "invites")
}

// AllInvites yields every invite, newest first, a page at a time (see
// [Store.ListInvites]; each page is read on its own, so an invite created
// meanwhile may or may not be among them), and stops at the first error,
// which it yields with the zero row.
//
//	for inv, err := range st.AllInvites(ctx) {
//		if err != nil {
//			return err
//		}
//		…
//	}
func (s *Store) AllInvites(ctx context.Context) iter.Seq2[db.ListInvitesRow, error] {
	return everyRow(DefaultInvitePage, func(last *db.ListInvitesRow) ([]db.ListInvitesRow, error) {
		var o ListInvitesOptions
		if last != nil {
			o.BeforeCreatedAt, o.BeforeID = last.CreatedAt, last.ID
		}
		return s.ListInvites(ctx, o)
	})
}

// DeleteInvite deletes an invite on behalf of by, an admin. Errors:
// VALIDATION_ERROR (empty id), UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
// INTERNAL_ERROR.
func (s *Store) DeleteInvite(ctx context.Context, by Actor, id string) error {
	if err := requireID("invite id", id); err != nil {
		return err
	}
	_, err := writeTx(ctx, s, by, AdminOnly, func(t wtx) (struct{}, error) {
		n, err := t.q.DeleteInvite(ctx, id)
		if err != nil {
			return struct{}{}, Translate(err, "invite")
		}
		if n == 0 {
			return struct{}{}, orgdb.NotFound("invite not found")
		}
		return struct{}{}, nil
	})
	return err
}

// DeleteExpiredInvites deletes every invite that expired without being
// accepted, on behalf of by (an admin, or the operator: a cleanup job),
// and returns how many. Errors: UNAUTHORIZED, FORBIDDEN, INTERNAL_ERROR.
func (s *Store) DeleteExpiredInvites(ctx context.Context, by Actor) (int64, error) {
	return writeOne(ctx, s, by, AdminOrOperator, func(t wtx) (int64, error) {
		n, err := t.q.DeleteExpiredInvites(ctx, t.now)
		return n, Translate(err, "invites")
	})
}
