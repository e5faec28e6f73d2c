package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/agentops/orgdb"
	"github.com/mattn/go-sqlite3"
)

// Translate turns a database error into the orgdb error the service maps
// to HTTP, naming what the statement was about (e.g. "invite"):
//
//   - an *orgdb.Error already in the chain (a typed value refused by its
//     Value method, or a trigger's validation) is returned as is;
//   - sql.ErrNoRows → NotFound;
//   - a UNIQUE or PRIMARY KEY violation → Conflict ("already exists");
//   - a FOREIGN KEY violation → Conflict (a referenced row is missing, or
//     the row is still referenced);
//   - a trigger's RAISE(ABORT, msg) → Validation with the trigger's msg;
//   - a NOT NULL or CHECK violation → Validation.
//
// Constraint kinds are told apart by SQLite's extended result code, never
// by the message text. Other errors are wrapped with what as context; nil
// stays nil.
func Translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var oe *orgdb.Error
	if errors.As(err, &oe) {
		return err
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
	return fmt.Errorf("%s: %w", what, err)
}

// triggerMessage is the text a trigger passed to RAISE(ABORT, ...): our
// own triggers write it for people. It is SQLite's error string for the
// statement, which go-sqlite3 keeps in Error().
func triggerMessage(se sqlite3.Error) string { return se.Error() }
