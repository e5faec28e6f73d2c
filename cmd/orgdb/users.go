package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func newUsersCmd(e *env) *cobra.Command {
	g := newGroup("users", "Add, list and delete users, change their roles",
		`Add users, list them, change their roles and delete them. The first user
becomes admin; the last admin can never be demoted or deleted.`,
		newUsersAddCmd(e),
		newUsersListCmd(e),
		newUsersSetRoleCmd(e),
		newUsersDeleteCmd(e),
	)
	g.Example = `  orgdb users add me@acme.test --name Me
  orgdb users set-role bob@acme.test admin --by me@acme.test
  orgdb users delete bob@acme.test --by me@acme.test`
	return g
}

func newUsersAddCmd(e *env) *cobra.Command {
	var (
		name   string
		bypass bool
	)
	cmd := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Sign a user up, as the service's sign-up policy allows; the first user becomes admin",
		Long: `Sign up the user with EMAIL, as the service does: the organization's sign-up
policy applies (domain gating, the allowlist, invites, and $ALLOWED_EMAILS
if set), in the same transaction that creates the user. A refusal says
which rule refused and changes nothing. The first user becomes admin; a user
with a pending invite gets the invite's role and the invite is accepted;
everyone else is a member.

--bypass-policy is the operator's way around the policy: it creates the user
whatever the policy says (a pending invite still gives its role).`,
		Example: `  orgdb users add me@acme.test --name Me
  orgdb users add bob@acme.test
  orgdb users add contractor@elsewhere.test --bypass-policy`,
		Args: positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			email, err := emailArg("EMAIL", args[0])
			if err != nil {
				return err
			}
			st, err := e.open(ctx, store.WithAllowedEmails(orgdb.ParseEmailList(e.getenv("ALLOWED_EMAILS"))))
			if err != nil {
				return err
			}
			defer st.Close()
			in := store.NewUser{Email: email}
			if name != "" {
				in.Name = &name
			}
			var u db.User
			if bypass {
				u, err = st.CreateUserBypassingPolicy(ctx, store.Operator("orgdb users add --bypass-policy"), in)
			} else {
				u, err = st.CreateUser(ctx, in)
			}
			var oe *orgdb.Error
			if errors.As(err, &oe) && oe.Code == orgdb.CodeForbidden {
				return fmt.Errorf("%s may not sign up: %s (sign-up policy rule %s); nothing changed; "+
					"to add the user anyway, as the operator: orgdb users add %s --bypass-policy", email, oe.Message, oe.Reason, email)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: added %s as %s (id %s)\n", show(e.where()), show(u.Email), u.Role, show(u.ID))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the user's display `name`")
	cmd.Flags().BoolVar(&bypass, "bypass-policy", false, "create the user whatever the sign-up policy says (the operator's override)")
	return cmd
}

func newUsersListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users, oldest first",
		Long: `List every user, oldest first: email, role, name, creation time and id.
With --json, a JSON array of the users as the service serves them. It only
reads the database. A value that is not plain printable text (a name with a
line break or a control character, stored by older versions) is shown
quoted, with Go's escapes.`,
		Example: `  orgdb users list
  orgdb users list --json | jq -r '.[] | select(.role == "admin") | .email'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := e.openRead(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var users []db.User
			for u, err := range st.AllUsers(ctx) {
				if err != nil {
					return err
				}
				users = append(users, u)
			}
			if asJSON {
				return printJSON(e.stdout, users)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tCREATED (UTC)\tID")
			for _, u := range users {
				name := "-"
				if u.Name != nil {
					name = show(*u.Name)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", show(u.Email), u.Role, name, when(u.CreatedAt), show(u.ID))
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}

func newUsersSetRoleCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "set-role EMAIL admin|member --by ADMIN_EMAIL",
		Short: "Change a user's role (never the last admin's), as an admin",
		Long: `Make the user with EMAIL an admin or a member, on behalf of the admin --by
(who may be EMAIL: an admin stepping down). Demoting the last admin is
refused, so the organization always keeps one; a user who already has the
role is left as is.`,
		Example: `  orgdb users set-role bob@acme.test admin --by me@acme.test
  orgdb users set-role me@acme.test member --by bob@acme.test`,
		Args:              cobra.MatchAll(positional("EMAIL", "ROLE"), roles().arg(1)),
		ValidArgsFunction: roles().complete(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			role, err := orgdb.ParseUserRole(args[1])
			if err != nil {
				return usageError(roles().refusal().Error())
			}
			email, err := emailArg("EMAIL", args[0])
			if err != nil {
				return err
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			a, admin, err := actor(ctx, st, by)
			if err != nil {
				return err
			}
			u, err := st.GetUserByEmail(ctx, email)
			if err != nil {
				return err
			}
			if u.Role == role {
				fmt.Fprintf(e.stdout, "%s: %s is already %s; nothing changed\n", show(e.where()), show(u.Email), role)
				return nil
			}
			updated, err := st.UpdateUserRole(ctx, a, u.ID, role)
			if errors.Is(err, store.ErrLastAdmin) {
				return fmt.Errorf("%s is the last admin and cannot be demoted: make another user admin first (orgdb users set-role EMAIL admin --by %s)", show(u.Email), show(admin.Email))
			}
			if err != nil {
				return asAdmin(err, admin, "change roles")
			}
			fmt.Fprintf(e.stdout, "%s: %s is now %s (was %s)\n", show(e.where()), show(updated.Email), updated.Role, u.Role)
			return nil
		},
	}
	byFlag(cmd, &by, "changes the role")
	return cmd
}

func newUsersDeleteCmd(e *env) *cobra.Command {
	var (
		by       string
		reassign bool
	)
	cmd := &cobra.Command{
		Use:   "delete EMAIL --by ADMIN_EMAIL",
		Short: "Delete a user (not yourself, never the last admin), as an admin",
		Long: `Delete the user with EMAIL, on behalf of the admin --by, with the user's own
integrations. Nobody deletes themself (another admin can), so the last
admin is never deleted. A user who sent invites, set org API keys or owns
org integrations is refused, with a count of each, unless --reassign gives
them to the admin --by in the same transaction. Either the user is deleted
with all that goes with them, or nothing changes. There is no undo (orgdb
backup first if in doubt).`,
		Example: `  orgdb users delete bob@acme.test --by me@acme.test
  orgdb users delete carol@acme.test --by me@acme.test --reassign`,
		Args: positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			email, err := emailArg("EMAIL", args[0])
			if err != nil {
				return err
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			// A member learns nothing of the users.
			a, admin, err := authorized(ctx, st, by, store.AdminOnly, "delete users")
			if err != nil {
				return err
			}
			u, err := st.GetUserByEmail(ctx, email)
			if err != nil {
				return err
			}
			err = st.DeleteUser(ctx, a, u.ID, store.DeleteUserOptions{ReassignToActor: reassign})
			var oe *orgdb.Error
			errors.As(err, &oe)
			switch {
			case err == nil:
			case oe != nil && oe.Reason == store.ReasonDeleteSelf:
				return deleteSelf(ctx, st, admin)
			case errors.Is(err, store.ErrLastAdmin):
				return fmt.Errorf("%s is the last admin and cannot be deleted: make another user admin first (orgdb users set-role EMAIL admin --by %s); nothing changed", show(u.Email), show(admin.Email))
			case oe != nil && oe.Reason == store.ReasonUserReferenced:
				return fmt.Errorf("%s %s; nothing changed; to give them to %s and delete the user: orgdb users delete %s --by %s --reassign",
					show(u.Email), references(oe.Details), show(admin.Email), show(u.Email), show(admin.Email))
			default:
				return asAdmin(err, admin, "delete users")
			}
			fmt.Fprintf(e.stdout, "%s: deleted %s (%s, id %s)", show(e.where()), show(u.Email), u.Role, show(u.ID))
			if reassign {
				fmt.Fprintf(e.stdout, "; the invites, org API keys and org integrations they had are now %s's", show(admin.Email))
			}
			fmt.Fprintln(e.stdout)
			return nil
		},
	}
	byFlag(cmd, &by, "deletes the user")
	cmd.Flags().BoolVar(&reassign, "reassign", false, "give the invites the user sent, the org API keys they set and the org integrations they own to the admin --by")
	return cmd
}

// deleteSelf words the refusal of u deleting themself: a member is told
// only an admin deletes users, an admin who else can.
func deleteSelf(ctx context.Context, st *store.Store, u db.User) error {
	if u.Role != orgdb.RoleAdmin {
		return fmt.Errorf("%s is %s, not an admin; only an admin can delete users; nothing changed", show(u.Email), u.Role)
	}
	admins, err := st.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if admins < 2 {
		return fmt.Errorf("%s cannot delete themself, and is the only admin: make another user admin first (orgdb users set-role EMAIL admin --by %s), who can then delete %s; nothing changed",
			show(u.Email), show(u.Email), show(u.Email))
	}
	return fmt.Errorf("%s cannot delete themself; another admin can (orgdb users delete %s --by ADMIN_EMAIL); nothing changed", show(u.Email), show(u.Email))
}

// references says what still refers to a user DeleteUser refused, from the
// refusal's details: "sent 2 invites and set 1 org API key".
func references(details map[string]any) string {
	var parts []string
	for _, r := range []struct{ key, verb, what string }{
		{"invites", "sent", "invite"},
		{"orgApiKeys", "set", "org API key"},
		{"orgIntegrations", "owns", "org integration"},
	} {
		var n int64
		switch v := details[r.key].(type) {
		case int64:
			n = v
		case int:
			n = int64(v)
		}
		if n > 0 {
			parts = append(parts, r.verb+" "+count(int(n), r.what))
		}
	}
	if len(parts) == 0 {
		return "is still referenced by other rows"
	}
	if len(parts) > 1 {
		parts[len(parts)-2] += " and " + parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, ", ")
}

func when(t orgdb.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
