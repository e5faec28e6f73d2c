package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
)

// Who may write what.
//
// Every write of the Store names who does it: its parameter after ctx is
// an [Actor], either a user of the organization ([ByUser], the user a
// service authenticated) or the operator ([Operator], the service's own
// jobs and the operator's CLI, always with a name that says which). Each
// write has one [Rule], stated where it begins its transaction, and one
// function, authorize, decides: it reads the acting user's role inside the
// write's own IMMEDIATE transaction, so a demotion committed before the
// write is seen and one racing it waits for it to commit. The README's
// table lists every write with its rule; a test derives the writes from
// the Store's method set and checks each against the table, by calling it.
//
// The sign-up ([Store.CreateUser]) has no actor: the sign-up policy
// decides, in the transaction that creates the user.

// actorKind tells the kinds of Actor apart; the zero Actor is nobody.
type actorKind uint8

const (
	nobody actorKind = iota
	userActor
	operatorActor
)

// Actor is who performs a write: a user ([ByUser]) or the operator
// ([Operator]). The zero Actor is nobody, and every write refuses it
// (UNAUTHORIZED, reason no_actor): there is no default actor.
//
// An Actor is an explicit parameter rather than a value in the context:
// a write without one does not compile, the rule's subject is visible at
// every call site, and the operator's bypass is a call to [Operator] that
// grep finds, never something a context picks up from far away.
type Actor struct {
	kind actorKind
	id   string // the user's id, or the operator's name
}

// ByUser is the user with this id acting, such as the signed-in user of
// a request or the admin a CLI names with --by. The store reads the
// user's role in the write's transaction; an id no user has is
// UNAUTHORIZED (reason unknown_actor), an empty one a VALIDATION_ERROR.
func ByUser(id string) Actor { return Actor{kind: userActor, id: id} }

// Operator is the operator acting: whoever runs the process that holds
// the database file, as opposed to a user of the organization. name says
// who or what acts ("orgdb admin bootstrap", "invite cleanup job") and must
// not be empty. The operator may do only the writes whose [Rule] admits
// it: what no user can (bootstrapping an admin, a sign-up that bypasses
// the policy, accepting an invite outside a sign-up), the rotation of the
// sealing key (it takes the keys from the operator's environment) and the
// cleanup of expired invites. It is the one bypass of the user rules:
// `grep -rn 'store.Operator('` lists every use.
func Operator(name string) Actor { return Actor{kind: operatorActor, id: name} }

// UserID is the acting user's id, "" for the operator and for nobody.
func (a Actor) UserID() string {
	if a.kind == userActor {
		return a.id
	}
	return ""
}

// IsOperator reports whether a is the operator.
func (a Actor) IsOperator() bool { return a.kind == operatorActor }

// String names the actor, for logs and messages: "user ID", "operator
// (NAME)" or "nobody".
func (a Actor) String() string {
	switch a.kind {
	case userActor:
		return "user " + a.id
	case operatorActor:
		return "operator (" + a.id + ")"
	}
	return "nobody"
}

// LogValue logs the actor as its String.
func (a Actor) LogValue() slog.Value { return slog.StringValue(a.String()) }

// Rule is who may perform a write. Each write of the Store has one (see
// the README's table); [Store.Tx] takes the rule of its caller's writes.
type Rule uint8

// The rules.
const (
	// AdminOnly: a user whose role is admin. Else FORBIDDEN
	// (admin_required for a member, user_required for the operator).
	AdminOnly Rule = iota + 1
	// AdminOrOperator: an admin, or the operator. Else FORBIDDEN
	// (admin_required).
	AdminOrOperator
	// OperatorOnly: the operator. Else FORBIDDEN (operator_required).
	OperatorOnly
	// AnyUser: any user of the organization, whatever their role (for
	// [Store.Tx]: a user's own rows). Else FORBIDDEN (user_required) for
	// the operator.
	AnyUser
	// signUp: no actor; the sign-up policy decides, in the write's
	// transaction ([Store.CreateUser]). Not for Tx.
	signUp
)

// String says who the rule admits, as the README's table does.
func (r Rule) String() string {
	switch r {
	case AdminOnly:
		return "an admin"
	case AdminOrOperator:
		return "an admin, or the operator"
	case OperatorOnly:
		return "the operator"
	case AnyUser:
		return "any user"
	case signUp:
		return "anyone the sign-up policy admits"
	}
	return fmt.Sprintf("Rule(%d)", uint8(r))
}

// Reasons of the refusals of authorize, in orgdb.Error.Reason.
const (
	ReasonNoActor          = "no_actor"          // UNAUTHORIZED: the zero Actor
	ReasonUnknownActor     = "unknown_actor"     // UNAUTHORIZED: ByUser with an id no user has
	ReasonAdminRequired    = "admin_required"    // FORBIDDEN: a member where the rule wants an admin
	ReasonUserRequired     = "user_required"     // FORBIDDEN: the operator where the rule wants a user
	ReasonOperatorRequired = "operator_required" // FORBIDDEN: a user where the rule wants the operator
)

// ErrAdminRequired matches (errors.Is) the refusal of a member where the
// rule wants an admin.
var ErrAdminRequired = &orgdb.Error{Code: orgdb.CodeForbidden, Reason: ReasonAdminRequired}

// authorize is the one function that decides whether by may perform a
// write of rule r. q is bound to the write's own IMMEDIATE transaction (or,
// for [Store.Authorize], to one read snapshot): the acting user's role is
// read there, so it cannot change before the write commits. A nil q
// stands for a decision that needs no read (see needsRead).
func authorize(ctx context.Context, q *db.Queries, by Actor, r Rule) error {
	if r == signUp {
		return nil // the write applies the sign-up policy itself
	}
	switch by.kind {
	case operatorActor:
		if strings.TrimSpace(by.id) == "" {
			return orgdb.Validation("store.Operator needs a name that says who acts").WithDetails("field", "actor")
		}
		if r == AdminOrOperator || r == OperatorOnly {
			return nil
		}
		return orgdb.Forbidden("This action is performed by a user of the organization, not the operator").
			WithReason(ReasonUserRequired)
	case userActor:
		if err := requireID("actor id", by.id); err != nil {
			return err
		}
		if q == nil {
			return orgdb.Internal(nil, "authorize: a user's rule needs the role read in the transaction")
		}
		role, err := q.GetUserRole(ctx, by.id)
		if errors.Is(err, sql.ErrNoRows) {
			return orgdb.Unauthorized("unknown user %q", by.id).WithReason(ReasonUnknownActor)
		}
		if err != nil {
			return Translate(err, "acting user")
		}
		switch r {
		case AnyUser:
			return nil
		case AdminOnly, AdminOrOperator:
			if role == orgdb.RoleAdmin {
				return nil
			}
			return orgdb.Forbidden("Admin access required").WithReason(ReasonAdminRequired)
		case OperatorOnly:
			return orgdb.Forbidden("Only the operator can do this, not a user of the organization").
				WithReason(ReasonOperatorRequired)
		}
		return unknownRule(r)
	}
	return orgdb.Unauthorized("no actor: every write names who does it (store.ByUser or store.Operator)").
		WithReason(ReasonNoActor)
}

// needsRead reports whether deciding rule r for by reads the database:
// only a user's role is read. The operator, nobody and a sign-up are
// decided without it.
func needsRead(by Actor, r Rule) bool { return by.kind == userActor && r != signUp }

// unknownRule refuses a Rule that is not one of the constants.
func unknownRule(r Rule) error {
	return orgdb.Validation("unknown rule %s: use store.AdminOnly, AdminOrOperator, OperatorOnly or AnyUser", r).
		WithDetails("field", "rule")
}

// Authorize reports whether by may perform a write of rule r, as of now:
// nil, or the refusal the write would return (UNAUTHORIZED, FORBIDDEN). It
// is for checks outside a write, such as an HTTP layer refusing a member
// an admin-only page before reading it, or a CLI refusing before it asks
// for a secret. It reads one snapshot; a write still decides again in its
// own transaction. Errors: VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN,
// INTERNAL_ERROR.
func (s *Store) Authorize(ctx context.Context, by Actor, r Rule) error {
	if r < AdminOnly || r > AnyUser {
		return unknownRule(r)
	}
	_, err := ReadTxV(ctx, s, func(q *db.Queries) (struct{}, error) { return struct{}{}, authorize(ctx, q, by, r) })
	return err
}

// wtx is a write transaction as the Store's writes see it.
type wtx struct {
	q *db.Queries // the generated queries, bound to the transaction
	// now is the transaction's one clock reading: every timestamp it
	// writes and every expiry it checks.
	now orgdb.Time
	// actorID is the acting user's id ("" for the operator and for a
	// sign-up), once authorize admitted them.
	actorID string
}

// writeTx runs fn in one IMMEDIATE transaction on the writer, once
// authorize has decided, in that transaction, that by may perform a write
// of rule r, and returns fn's value. It is the guard of every write: on a
// LiteFS replica it returns NOT_PRIMARY before anything reaches SQLite.
// Errors as for [Store.Tx].
func writeTx[T any](ctx context.Context, s *Store, by Actor, r Rule, fn func(t wtx) (T, error)) (T, error) {
	if err := s.writable(); err != nil {
		var zero T
		return zero, err
	}
	v, err := runTx(ctx, s.writer, s.wq, "write transaction", func(q *db.Queries) (T, error) {
		if err := authorize(ctx, q, by, r); err != nil {
			var zero T
			return zero, err
		}
		if s.afterAuthorize != nil {
			s.afterAuthorize()
		}
		return fn(wtx{q: q, now: s.Now(), actorID: by.UserID()})
	})
	return v, s.demoted(err)
}

// writeOne is writeTx for a write that is one guarded statement, whose
// other statements only explain a refusal. When the rule needs no read
// (the operator acting), fn runs on the writer's statements without a
// transaction, as one statement commits on its own: nothing read before it
// could change under it, and a BEGIN and COMMIT would only cost. A user
// acting gets writeTx: their role must be read in the transaction of the
// write.
func writeOne[T any](ctx context.Context, s *Store, by Actor, r Rule, fn func(t wtx) (T, error)) (T, error) {
	if needsRead(by, r) {
		return writeTx(ctx, s, by, r, fn)
	}
	var zero T
	if err := s.writable(); err != nil {
		return zero, err
	}
	if err := authorize(ctx, nil, by, r); err != nil {
		return zero, err
	}
	if s.afterAuthorize != nil {
		s.afterAuthorize()
	}
	v, err := fn(wtx{q: s.wq, now: s.Now(), actorID: by.UserID()})
	if err != nil {
		return zero, s.demoted(Translate(err, ""))
	}
	return v, nil
}

// TxV is [Store.Tx] for a function that returns a value: it runs fn in one
// IMMEDIATE transaction, after the store has checked, in that
// transaction, that by may perform writes of rule (the rule of what fn
// writes, stated by the caller), and returns fn's value, or the zero value
// and the error.
//
//	inv, err := store.TxV(ctx, st, store.ByUser(adminID), store.AdminOnly, func(q *db.Queries) (db.Invite, error) {
//		return q.GetInvite(ctx, id)
//	})
func TxV[T any](ctx context.Context, s *Store, by Actor, rule Rule, fn func(q *db.Queries) (T, error)) (T, error) {
	if rule < AdminOnly || rule > AnyUser {
		var zero T
		return zero, unknownRule(rule)
	}
	return writeTx(ctx, s, by, rule, func(t wtx) (T, error) { return fn(t.q) })
}

// ReadTxV is [Store.ReadTx] for a function that returns a value: every
// read of fn sees one snapshot.
//
//	n, err := store.ReadTxV(ctx, st, func(q *db.Queries) (int64, error) { return q.CountAdmins(ctx) })
func ReadTxV[T any](ctx context.Context, s *Store, fn func(q *db.Queries) (T, error)) (T, error) {
	return runTx(ctx, s.readers, s.rq, "read transaction", fn)
}

// withAfterAuthorize sets a function every write calls once authorize has
// admitted the actor, in the write's transaction (a test races a demotion
// with a write there).
func withAfterAuthorize(f func()) Option {
	return func(s *Store) { s.afterAuthorize = f }
}
