package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
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
  orgdb users set-role bob@acme.test admin`
	return g
}

func newUsersAddCmd(e *env) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Sign a user up; the first user becomes admin",
		Long: `Sign up the user with EMAIL, as the service does: the organization's sign-up
policy (allowed domains, allowlist, invites) applies. The first user becomes
admin; a user with a pending invite gets the invite's role and the invite is
accepted; everyone else is a member.`,
		Example: `  orgdb users add me@acme.test --name Me
  orgdb users add bob@acme.test`,
		Args: positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			in := store.NewUser{Email: args[0]}
			if name != "" {
				in.Name = &name
			}
			u, err := st.CreateUser(ctx, in)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added %s as %s (id %s)\n", u.Email, u.Role, u.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the user's display `name`")
	return cmd
}

func newUsersListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users, oldest first",
		Long: `List every user, oldest first: email, role, name, creation time and id.
With --json, a JSON array of the users as the service serves them. It only
reads the database.`,
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
			if err := eachUser(ctx, st, func(u db.User) bool { users = append(users, u); return true }); err != nil {
				return err
			}
			if asJSON {
				return printJSON(e.stdout, users)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tCREATED (UTC)\tID")
			for _, u := range users {
				name := "-"
				if u.Name != nil {
					name = *u.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, name, when(u.CreatedAt), u.ID)
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}

// eachUser calls fn for every user, oldest first, a page at a time, until
// fn returns false.
func eachUser(ctx context.Context, st *store.Store, fn func(db.User) bool) error {
	var page store.ListUsersOptions
	for {
		users, err := st.ListUsers(ctx, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			if !fn(u) {
				return nil
			}
		}
		if len(users) < store.DefaultUserPage {
			return nil
		}
		last := users[len(users)-1]
		page = store.ListUsersOptions{AfterCreatedAt: last.CreatedAt, AfterID: last.ID}
	}
}

func newUsersSetRoleCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "set-role EMAIL admin|member",
		Short: "Change a user's role (never the last admin's)",
		Long: `Make the user with EMAIL an admin or a member. Demoting the last admin is
refused, so the organization always keeps one; a user who already has the
role is left as is.`,
		Example: `  orgdb users set-role bob@acme.test admin
  orgdb users set-role me@acme.test member`,
		Args:              cobra.MatchAll(positional("EMAIL", "ROLE"), roles().arg(1)),
		ValidArgsFunction: roles().complete(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			role, err := orgdb.ParseUserRole(args[1])
			if err != nil {
				return usageError(err.Error())
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			u, err := st.GetUserByEmail(ctx, args[0])
			if err != nil {
				return err
			}
			if u.Role == role {
				fmt.Fprintf(e.stdout, "%s is already %s; nothing changed\n", u.Email, role)
				return nil
			}
			updated, err := st.UpdateUserRole(ctx, u.ID, role)
			var oe *orgdb.Error
			if errors.As(err, &oe) && oe.Reason == store.ReasonLastAdmin {
				return fmt.Errorf("%s is the last admin and cannot be demoted: make another user admin first (orgdb users set-role EMAIL admin)", u.Email)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s is now %s (was %s)\n", updated.Email, updated.Role, u.Role)
			return nil
		},
	}
}

// requireAdmin refuses u unless u is an admin, naming u and what only an
// admin can do.
func requireAdmin(u db.User, action string) error {
	if access.RequireAdmin(u) != nil {
		return fmt.Errorf("%s is %s, not an admin; only an admin can %s", u.Email, u.Role, action)
	}
	return nil
}

func when(t orgdb.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
