package main

// Who acts: every command that writes names its actor. A command an admin
// would do in the service takes --by ADMIN_EMAIL, resolved here to
// store.ByUser; the store decides, in the write's transaction, whether
// that user may. The few commands that act as the operator say so in
// their source with store.Operator (admin bootstrap, keys rotate, users
// add --bypass-policy).

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// emailArg returns the email argument what, normalized, or a usage error
// that does not repeat it: what is not an address might be a secret
// pasted in the wrong place.
func emailArg(what, v string) (string, error) {
	email, err := orgdb.NormalizeEmail(v)
	if err != nil {
		return "", usageError(what + " is not a valid email address (the value is not repeated)")
	}
	return email, nil
}

// byFlag adds --by, the acting admin's email, to cmd, required: its Args
// check refuses the command without it. doing completes "the admin who …".
func byFlag(cmd *cobra.Command, by *string, doing string) {
	cmd.Flags().StringVar(by, "by", "", "`email` of the admin who "+doing+" (required)")
	args := cmd.Args
	cmd.Args = func(c *cobra.Command, a []string) error {
		if args != nil {
			if err := args(c, a); err != nil {
				return err
			}
		}
		if *by == "" {
			return usageError("missing --by ADMIN_EMAIL, the admin who " + doing)
		}
		return nil
	}
}

// actor is the user with email by (--by), acting: the store.Actor to pass
// to a write, and the user, for messages.
func actor(ctx context.Context, st *store.Store, by string) (store.Actor, db.User, error) {
	email, err := emailArg("--by", by)
	if err != nil {
		return store.Actor{}, db.User{}, err
	}
	u, err := st.GetUserByEmail(ctx, email)
	if errors.Is(err, orgdb.ErrNotFound) {
		return store.Actor{}, db.User{}, fmt.Errorf("--by %s: no user has this email; --by names an admin of the organization (orgdb users list shows them)", email)
	}
	if err != nil {
		return store.Actor{}, db.User{}, err
	}
	return store.ByUser(u.ID), u, nil
}

// authorized is actor, then the store's rule for it, refused as asAdmin
// words it: for a command that checks before it asks or reads anything
// (the store decides again when it writes). action completes "only an
// admin can …".
func authorized(ctx context.Context, st *store.Store, by string, rule store.Rule, action string) (store.Actor, db.User, error) {
	a, u, err := actor(ctx, st, by)
	if err != nil {
		return store.Actor{}, db.User{}, err
	}
	if err := st.Authorize(ctx, a, rule); err != nil {
		return store.Actor{}, db.User{}, asAdmin(err, u, action)
	}
	return a, u, nil
}

// asAdmin words the store's refusal of u, a member, as the CLI's: it names
// them and what only an admin can do. Other errors are returned as they
// are.
func asAdmin(err error, u db.User, action string) error {
	if !errors.Is(err, store.ErrAdminRequired) {
		return err
	}
	if u.Role == orgdb.RoleAdmin { // demoted since it was read
		return fmt.Errorf("%s is no longer an admin; only an admin can %s; nothing changed", show(u.Email), action)
	}
	return fmt.Errorf("%s is %s, not an admin; only an admin can %s; nothing changed", show(u.Email), u.Role, action)
}
