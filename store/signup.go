package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
)

// WithAllowedEmails sets the ALLOWED_EMAILS fallback of the sign-up policy
// (see [access.CheckSignup]): with neither domain gating nor the allowlist
// on, and no valid invite, the addresses listed here may sign up. Pass
// orgdb.ParseEmailList(os.Getenv("ALLOWED_EMAILS")); the default is none.
func WithAllowedEmails(list orgdb.EmailList) Option {
	return func(s *Store) { s.allowedEmails = list }
}

// CreateUser signs a user up, applying the organization's sign-up policy
// ([access.CheckSignup]: domain gating, the allowlist, invites, and the
// [WithAllowedEmails] fallback) in the IMMEDIATE transaction that creates
// the user and consumes the invite, so a policy changed or an invite
// deleted meanwhile is seen. The first user of the organization becomes
// admin (two simultaneous first sign-ups yield one admin); a user with a
// valid invite gets the invite's role and the invite is marked accepted;
// anyone else is a member. The email is trimmed, lower-cased and
// validated; the name and the GitHub fields must be one line of printable
// text. A refusal changes nothing. Errors: VALIDATION_ERROR, CONFLICT
// (reason user_exists: the email is taken, in any case), FORBIDDEN (the
// policy refused: the reason says which rule, one of access.Reason*),
// INTERNAL_ERROR.
//
// [Store.CreateUserBypassingPolicy] is the operator's way around the
// policy.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (db.User, error) {
	return s.createUser(ctx, Actor{}, signUp, in)
}

// CreateUserBypassingPolicy creates a user as [Store.CreateUser] does, but
// without the sign-up policy: an address outside the allowed domain or
// allowlist, or without an invite, is created too (a valid invite is
// still consumed and gives its role). Only the operator may
// (store.Operator, such as `orgdb users add --bypass-policy`). Errors:
// those of CreateUser but FORBIDDEN for a user actor (operator_required)
// and UNAUTHORIZED without an actor.
func (s *Store) CreateUserBypassingPolicy(ctx context.Context, by Actor, in NewUser) (db.User, error) {
	return s.createUser(ctx, by, OperatorOnly, in)
}

// createUser creates the user in one IMMEDIATE transaction; with rule
// signUp the sign-up policy decides first.
func (s *Store) createUser(ctx context.Context, by Actor, rule Rule, in NewUser) (db.User, error) {
	email, err := orgdb.NormalizeEmail(in.Email)
	if err != nil {
		return db.User{}, err
	}
	for _, f := range []struct {
		field string
		v     *string
	}{{"name", in.Name}, {"avatarUrl", in.AvatarURL}, {"githubId", in.GithubID}, {"githubUsername", in.GithubUsername}} {
		if f.v != nil {
			if err := checkText(f.field, *f.v); err != nil {
				return db.User{}, err
			}
		}
	}
	return writeTx(ctx, s, by, rule, func(t wtx) (db.User, error) {
		q := t.q
		if _, err := q.GetUserByEmail(ctx, email); err == nil {
			return db.User{}, orgdb.Conflict("a user with email %s already exists", email).WithReason(ReasonUserExists)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return db.User{}, Translate(err, "user")
		}
		inv, err := q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: email, Now: t.now})
		hasInvite := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return db.User{}, Translate(err, "invite")
		}
		if rule == signUp {
			if err := s.signupPolicy(ctx, q, email, hasInvite); err != nil {
				return db.User{}, err
			}
		}
		role := orgdb.RoleMember
		anyUser, err := q.HasUsers(ctx)
		if err != nil {
			return db.User{}, Translate(err, "user")
		}
		if !anyUser {
			role = orgdb.RoleAdmin
		}
		if hasInvite {
			if role != orgdb.RoleAdmin {
				role = inv.Role
			}
			if _, err := q.AcceptInvite(ctx, db.AcceptInviteParams{AcceptedAt: &t.now, ID: inv.ID, Now: t.now}); err != nil {
				return db.User{}, Translate(err, "invite")
			}
		}
		u, err := q.InsertUser(ctx, db.InsertUserParams{
			ID: orgdb.NewID(), Email: email, Name: in.Name, AvatarURL: in.AvatarURL,
			GithubID: in.GithubID, GithubUsername: in.GithubUsername, Role: role,
		})
		return u, Translate(err, "user")
	})
}

// signupPolicy applies access.CheckSignup to email with what q (a write
// transaction or a read snapshot) holds: the settings, whether any invite
// exists, and hasInvite, whether email has a valid one.
func (s *Store) signupPolicy(ctx context.Context, q *db.Queries, email string, hasInvite bool) error {
	in := access.Signup{Email: email, HasValidInvite: hasInvite, InvitesExist: hasInvite, AllowedEmails: s.allowedEmails}
	var err error
	if in.Settings, err = q.GetOrgSettings(ctx); err != nil {
		return Translate(err, "org settings")
	}
	if !in.InvitesExist {
		if in.InvitesExist, err = q.HasInvites(ctx); err != nil {
			return Translate(err, "invites")
		}
	}
	return access.CheckSignup(in)
}

// CheckSignup tells, as of now, whether email may sign up: nil, or the
// refusal [Store.CreateUser] would return. It reads one snapshot; the
// decision that counts is the one CreateUser makes in its own transaction.
// A service can call it to refuse early (before an OAuth round trip).
// Errors: VALIDATION_ERROR (email), FORBIDDEN (with the reason),
// INTERNAL_ERROR.
func (s *Store) CheckSignup(ctx context.Context, email string) error {
	norm, err := orgdb.NormalizeEmail(email)
	if err != nil {
		return err
	}
	_, err = ReadTxV(ctx, s, func(q *db.Queries) (struct{}, error) {
		_, err := q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: norm, Now: s.Now()})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return struct{}{}, Translate(err, "invite")
		}
		return struct{}{}, s.signupPolicy(ctx, q, norm, err == nil)
	})
	return err
}
