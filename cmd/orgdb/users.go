package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func newUsersCmd(e *env) *cobra.Command {
	g := newGroup("users", "Add and list users, change their roles",
		`Add users, list them and change their roles. The first user becomes admin;
the last admin can never be demoted.`,
		newUsersAddCmd(e),
		newUsersListCmd(e),
		newUsersSetRoleCmd(e),
	)
	g.Example = `  orgdb users add me@acme.test --name Me
  orgdb users set-role bob@acme.test admin --by me@acme.test`
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
			fmt.Fprintf(e.stdout, "added %s as %s (id %s)\n", show(u.Email), u.Role, show(u.ID))
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
				fmt.Fprintf(e.stdout, "%s is already %s; nothing changed\n", show(u.Email), role)
				return nil
			}
			updated, err := st.UpdateUserRole(ctx, a, u.ID, role)
			if errors.Is(err, store.ErrLastAdmin) {
				return fmt.Errorf("%s is the last admin and cannot be demoted: make another user admin first (orgdb users set-role EMAIL admin --by %s)", show(u.Email), show(admin.Email))
			}
			if err != nil {
				return asAdmin(err, admin, "change roles")
			}
			fmt.Fprintf(e.stdout, "%s is now %s (was %s)\n", show(updated.Email), updated.Role, u.Role)
			return nil
		},
	}
	byFlag(cmd, &by, "changes the role")
	return cmd
}

func when(t orgdb.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
