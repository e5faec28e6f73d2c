package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func newInvitesCmd(e *env) *cobra.Command {
	g := newGroup("invites", "Invite people and list the invites",
		`Invite an email address with a role, and list the invites with their status
(pending, accepted, expired). An invited person who signs up (orgdb users add)
gets the invite's role.`,
		newInvitesCreateCmd(e),
		newInvitesListCmd(e),
	)
	g.Example = `  orgdb invites create carol@acme.test --role admin --by me@acme.test
  orgdb invites list`
	return g
}

func newInvitesCreateCmd(e *env) *cobra.Command {
	var (
		role orgdb.UserRole
		by   string
	)
	cmd := &cobra.Command{
		Use:   "create EMAIL --by ADMIN_EMAIL",
		Short: "Invite an email address, as an admin",
		Long: `Invite EMAIL to the organization with a role (member unless --role), on
behalf of the admin --by, who is recorded as the inviter. The invite expires
after 7 days; signing up with EMAIL (orgdb users add EMAIL, or the service's
sign-up) accepts it and gives the invite's role.`,
		Example: `  orgdb invites create carol@acme.test --by me@acme.test
  orgdb invites create dan@acme.test --role admin --by me@acme.test`,
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
			a, inviter, err := actor(ctx, st, by)
			if err != nil {
				return err
			}
			inv, err := st.CreateInvite(ctx, a, store.NewInvite{Email: email, Role: role})
			if err != nil {
				return asAdmin(err, inviter, "invite")
			}
			fmt.Fprintf(e.stdout, "invited %s as %s until %s (id %s)\n", show(inv.Email), inv.Role, when(inv.ExpiresAt), show(inv.ID))
			return nil
		},
	}
	roles().flag(cmd, &role, "role", orgdb.RoleMember, "the invitee's `role`: admin or member")
	byFlag(cmd, &by, "invites")
	return cmd
}

func newInvitesListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List invites, newest first, with their status",
		Long: `List every invite, newest first: email, role, status (pending, accepted,
expired), expiry, creation time and id. With --json, a JSON array of the
invites as the service serves them. It only reads the database.`,
		Example: `  orgdb invites list
  orgdb invites list --json | jq -r '.[] | select(.status == "pending") | .email'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := e.openRead(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var all []db.ListInvitesRow
			for inv, err := range st.AllInvites(ctx) {
				if err != nil {
					return err
				}
				all = append(all, inv)
			}
			if asJSON {
				return printJSON(e.stdout, all)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tEXPIRES (UTC)\tCREATED (UTC)\tID")
			for _, inv := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", show(inv.Email), inv.Role, inv.Status, when(inv.ExpiresAt), when(inv.CreatedAt), show(inv.ID))
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}
