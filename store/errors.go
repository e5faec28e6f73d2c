package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/agentops/orgdb"
	"github.com/mattn/go-sqlite3"
)

// Translate is the one function that interprets a database error: every
// error a [Store] method returns went through it. It turns err into the
// [*orgdb.Error] the service maps to HTTP, naming what the statement was
// about (e.g. "invite"; "" says "row"):
//
//   - an *orgdb.Error is returned as is; one deeper in the chain (a typed
//     value refused by its Value method, wrapped by database/sql) gives an
//     *orgdb.Error of the same code, reason, details and public message,
//     whose internal message (Error()) is err's whole text;
//   - sql.ErrNoRows → NOT_FOUND ("<what> not found");
//   - a UNIQUE or PRIMARY KEY violation → CONFLICT ("already exists");
//   - a FOREIGN KEY violation → CONFLICT (a referenced row is missing, or
//     the row is still referenced);
//   - a trigger's RAISE(ABORT, msg) → VALIDATION_ERROR with the trigger's msg;
//   - a NOT NULL or CHECK violation → VALIDATION_ERROR;
//   - SQLite's "database is locked" (a lock held by another process past
//     the busy timeout: a restore, a migration) → UNAVAILABLE, reason
//     database_locked: try again;
//   - anything else (the disk, a
//     cancelled context, a write on a read-only connection) →
//     INTERNAL_ERROR: a client reads "internal error", the operator
//     (Error(), logs) "<what>: <cause>".
//
// Constraint kinds are told apart by SQLite's extended result code, never
// by the message text. The cause stays in the chain (errors.Is(err,
// context.DeadlineExceeded) still works); nil stays nil.
func Translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if what == "" {
		what = "row"
	}
	if oe, ok := err.(*orgdb.Error); ok {
		return oe
	}
	var oe *orgdb.Error
	if errors.As(err, &oe) {
		// The client reads the inner error's public message; the
		// operator the whole chain (driver text included).
		e := oe.WithCause(err).WithInternalMessage("%s", err.Error())
		if oe.Code == orgdb.CodeInternal {
			e.Message = orgdb.InternalMessage
		}
		return e
	}
	if errors.Is(err, sql.ErrNoRows) {
		return orgdb.Wrap(orgdb.CodeNotFound, err, "%s not found", what)
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return orgdb.Wrap(orgdb.CodeConflict, err, "%s already exists", what)
		case sqlite3.ErrConstraintForeignKey:
			return orgdb.Wrap(orgdb.CodeConflict, err, "%s: a referenced row does not exist or the row is still referenced", what)
		case sqlite3.ErrConstraintTrigger:
			return orgdb.Wrap(orgdb.CodeValidation, err, "%s: %s", what, triggerMessage(se))
		case sqlite3.ErrConstraintNotNull:
			return orgdb.Wrap(orgdb.CodeValidation, err, "%s: a required field is missing", what)
		case sqlite3.ErrConstraintCheck:
			return orgdb.Wrap(orgdb.CodeValidation, err, "%s: a value is out of range", what)
		}
	}
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		return orgdb.Wrap(orgdb.CodeUnavailable, err, "%s: the database is locked by another process (a restore, a migration or a long write) past the 5 s busy timeout; nothing was written: try again", what).
			WithReason(ReasonDatabaseLocked)
	}
	if errors.As(err, &se) && se.Code == sqlite3.ErrReadonly {
		return orgdb.Internal(err, "%s: the database is open read-only (opened for reading only, or a file this process may not write): %v", what, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return orgdb.Internal(err, "%s: %v (the request was cancelled or timed out)", what, err)
	}
	return orgdb.Internal(err, "%s: %v", what, err)
}

// triggerMessage is the text a trigger passed to RAISE(ABORT, ...): our
// own triggers write it for people. It is SQLite's error string for the
// statement, which go-sqlite3 keeps in Error().
func triggerMessage(se sqlite3.Error) string { return se.Error() }

// ReasonDatabaseLocked is the reason of UNAVAILABLE when another process
// held the database's lock past the busy timeout (a restore copying into
// it, a migration): nothing was done, and trying again later works.
const ReasonDatabaseLocked = "database_locked"
