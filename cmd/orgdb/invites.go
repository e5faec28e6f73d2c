package main

import (
	"context"
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
	g.Example = `  orgdb invites create carol@acme.test --role admin
  orgdb invites list`
	return g
}

func newInvitesCreateCmd(e *env) *cobra.Command {
	var (
		role orgdb.UserRole
		by   string
	)
	cmd := &cobra.Command{
		Use:   "create EMAIL",
		Short: "Invite an email address",
		Long: `Invite EMAIL to the organization with a role (member unless --role), on
behalf of an admin (--by, else the first admin). The invite expires after 7
days; signing up with EMAIL (orgdb users add EMAIL, or the service's sign-up)
accepts it and gives the invite's role.`,
		Example: `  orgdb invites create carol@acme.test
  orgdb invites create dan@acme.test --role admin --by me@acme.test`,
		Args: positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			inviter, err := inviterID(ctx, st, by)
			if err != nil {
				return err
			}
			inv, err := st.CreateInvite(ctx, store.NewInvite{Email: args[0], Role: role, InvitedBy: inviter})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "invited %s as %s until %s (id %s)\n", inv.Email, inv.Role, when(inv.ExpiresAt), inv.ID)
			return nil
		},
	}
	roles().flag(cmd, &role, "role", orgdb.RoleMember, "the invitee's `role`: admin or member")
	cmd.Flags().StringVar(&by, "by", "", "`email` of the inviting admin (default the first admin)")
	return cmd
}

// inviterID is the id of the admin with email by, or of the first admin.
func inviterID(ctx context.Context, st *store.Store, by string) (string, error) {
	if by != "" {
		u, err := st.GetUserByEmail(ctx, by)
		if err != nil {
			return "", err
		}
		return u.ID, requireAdmin(u, "invite")
	}
	var admin string
	err := eachUser(ctx, st, func(u db.User) bool {
		if u.Role == orgdb.RoleAdmin {
			admin = u.ID
		}
		return admin == ""
	})
	if err != nil || admin != "" {
		return admin, err
	}
	return "", fmt.Errorf("no admin to invite on behalf of: add a user first (orgdb users add EMAIL) or pass --by")
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
			var page store.ListInvitesOptions
			for {
				invs, err := st.ListInvites(ctx, page)
				if err != nil {
					return err
				}
				all = append(all, invs...)
				if len(invs) < store.DefaultInvitePage {
					break
				}
				last := invs[len(invs)-1]
				page = store.ListInvitesOptions{BeforeCreatedAt: last.CreatedAt, BeforeID: last.ID}
			}
			if asJSON {
				return printJSON(e.stdout, all)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tEXPIRES (UTC)\tCREATED (UTC)\tID")
			for _, inv := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inv.Email, inv.Role, inv.Status, when(inv.ExpiresAt), when(inv.CreatedAt), inv.ID)
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}
