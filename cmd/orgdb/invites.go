package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func newInvitesCmd(e *env) *cobra.Command {
	g := newGroup("invites", "Invite people, list and revoke the invites",
		`Invite an email address with a role, list the invites with their status
(pending, accepted, expired), and revoke one. An invited person who signs up
(orgdb users add) gets the invite's role.`,
		newInvitesCreateCmd(e),
		newInvitesListCmd(e),
		newInvitesRevokeCmd(e),
	)
	g.Example = `  orgdb invites create carol@acme.test --role admin --by me@acme.test
  orgdb invites list
  orgdb invites revoke carol@acme.test --by me@acme.test`
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
			if oe := (*orgdb.Error)(nil); errors.As(err, &oe) && oe.Reason == store.ReasonUserExists {
				return fmt.Errorf("%w; nothing changed (orgdb users set-role changes a user's role)", err)
			}
			if err != nil {
				return asAdmin(err, inviter, "invite")
			}
			fmt.Fprintf(e.stdout, "%s: invited %s as %s until %s (id %s)\n", show(e.where()), show(inv.Email), inv.Role, when(inv.ExpiresAt), show(inv.ID))
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

// inviteID matches an invite id as orgdb makes them (26 characters of
// base32) or as a UUID: such an argument is repeated in an error, as is a
// plain word (a name typed without its domain); any other, which might be
// a key pasted in the wrong place, is not.
var inviteID = regexp.MustCompile(`^([A-Z2-7]{26}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$`)

func newInvitesRevokeCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "revoke EMAIL|ID --by ADMIN_EMAIL",
		Short: "Revoke the invite of an email address (or with an id), as an admin",
		Long: `Delete the invite of EMAIL (there is at most one per address), or the invite
with ID (orgdb invites list shows them), on behalf of the admin --by: it can
no longer be accepted, and once no invite is left, sign-up is open again
unless gating or $ALLOWED_EMAILS restricts it (orgdb settings show says).
A pending or expired invite is revoked; an accepted one is refused while
its invitee is a user (orgdb users delete removes them).`,
		Example: `  orgdb invites revoke carol@acme.test --by me@acme.test
  orgdb invites revoke 2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA --by me@acme.test`,
		Args: positional("EMAIL|ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var email string
			if strings.Contains(args[0], "@") {
				var err error
				if email, err = emailArg("EMAIL", args[0]); err != nil {
					return err
				}
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			// A member learns nothing of the invites.
			a, admin, err := authorized(ctx, st, by, store.AdminOnly, "revoke invites")
			if err != nil {
				return err
			}
			inv, err := findInvite(ctx, st, email, args[0])
			if err != nil {
				return err
			}
			status := "pending"
			switch {
			case inv.AcceptedAt != nil:
				// The record of an invitee who is no longer a user can go.
				_, err := st.GetUserByEmail(ctx, inv.Email)
				if errors.Is(err, orgdb.ErrNotFound) {
					status = "accepted"
					break
				}
				if err != nil {
					return err
				}
				return fmt.Errorf("%s accepted the invite on %s and is a user: revoking it would change nothing; nothing changed (orgdb users delete %s --by %s removes the user)",
					show(inv.Email), when(*inv.AcceptedAt), show(inv.Email), show(admin.Email))
			case !inv.ExpiresAt.After(st.Now().Time):
				status = "expired"
			}
			if err := st.DeleteInvite(ctx, a, inv.ID); err != nil {
				if errors.Is(err, orgdb.ErrNotFound) {
					return fmt.Errorf("the invite of %s was replaced or revoked meanwhile; nothing changed (orgdb invites list shows the invites)", show(inv.Email))
				}
				return asAdmin(err, admin, "revoke invites")
			}
			fmt.Fprintf(e.stdout, "%s: revoked the %s invite of %s as %s (id %s)\n", show(e.where()), status, show(inv.Email), inv.Role, show(inv.ID))
			// The last invite gone, an ungated organization is open to
			// anyone (access.CheckSignup): say so.
			s, err := st.GetOrgSettings(ctx)
			if err != nil {
				return err
			}
			left, err := store.ReadTxV(ctx, st, func(q *db.Queries) (bool, error) { return q.HasInvites(ctx) })
			if err != nil {
				return err
			}
			if !left && !s.DomainGatingEnabled && !s.EmailAllowlistEnabled {
				fmt.Fprintln(e.stdout, "no invite is left: sign-up is "+signupText(s, false)+" (orgdb settings set restricts it)")
			}
			return nil
		},
	}
	byFlag(cmd, &by, "revokes the invite")
	return cmd
}

// findInvite returns the invite of email (at most one: the column is
// unique), or, when email is "", the invite with id.
func findInvite(ctx context.Context, st *store.Store, email, id string) (db.Invite, error) {
	if email == "" {
		inv, err := st.GetInvite(ctx, id)
		if errors.Is(err, orgdb.ErrNotFound) {
			shown := strconv.Quote(id)
			if !inviteID.MatchString(id) && !isCommandName(id) {
				shown = "given (not repeated: it is not an invite id)"
			}
			return db.Invite{}, fmt.Errorf("no invite with the id %s: give the invitee's email address, or an id from orgdb invites list", shown)
		}
		return inv, err
	}
	for inv, err := range st.AllInvites(ctx) {
		if err != nil {
			return db.Invite{}, err
		}
		if inv.Email == email {
			return st.GetInvite(ctx, inv.ID)
		}
	}
	return db.Invite{}, fmt.Errorf("no invite for %s: orgdb invites list shows the invites", email)
}
