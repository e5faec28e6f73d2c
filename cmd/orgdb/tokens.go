package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/apitoken"
	"github.com/agentops/orgdb/store"
)

func newTokensCmd(e *env) *cobra.Command {
	g := newGroup("tokens", "Create, list and revoke API tokens for orgdb serve",
		`API tokens authenticate a user of the organization to the HTTP API
(orgdb serve): the web client sends one as Authorization: Bearer TOKEN. The
operator creates a token for a user; it is printed once and only its SHA-256
is stored. A token acts as its user, with the user's current role: a
member's token gets 403 on the admin routes, and deleting the user deletes
their tokens.`,
		newTokensCreateCmd(e),
		newTokensListCmd(e),
		newTokensRevokeCmd(e),
	)
	g.Example = `  T=$(orgdb tokens create me@acme.test --name "web client")
  orgdb tokens list
  orgdb tokens revoke 2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA`
	return g
}

// parseExpiry reads --expires: a duration from now (90d, 12h, 30m) or a
// date (2027-01-31, UTC midnight).
func parseExpiry(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageError(fmt.Sprintf("--expires %s: want a duration such as 90d or 12h, or a date such as 2027-01-31", show(v)))
}

func newTokensCreateCmd(e *env) *cobra.Command {
	var name, expires string
	cmd := &cobra.Command{
		Use:   "create EMAIL",
		Short: "Create an API token for a user, as the operator; prints the token alone",
		Long: `Create an API token that authenticates the user EMAIL to orgdb serve, as the
operator (no user can create one). The token is printed alone on stdout, once:
it is not stored (only its SHA-256 is) and cannot be shown again. What was
created (the token's id and prefix) goes to stderr. --expires makes it stop
working after a duration (90d, 12h) or at a date (2027-01-31, UTC).`,
		Example: `  T=$(orgdb tokens create me@acme.test --name "web client")
  orgdb tokens create ci@acme.test --name ci --expires 90d`,
		Args: positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			email, err := emailArg("EMAIL", args[0])
			if err != nil {
				return err
			}
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			u, err := st.GetUserByEmail(ctx, email)
			if errors.Is(err, orgdb.ErrNotFound) {
				return fmt.Errorf("no user has the email %s; nothing created (orgdb users list shows the users)", email)
			}
			if err != nil {
				return err
			}
			c, err := apitoken.Create(ctx, st, store.Operator("orgdb tokens create"), apitoken.NewToken{UserID: u.ID, Name: name, ExpiresAt: exp})
			if err != nil {
				return err
			}
			until := "never expires"
			if c.Token.ExpiresAt != nil {
				until = "expires " + when(*c.Token.ExpiresAt) + " UTC"
			}
			fmt.Fprintf(e.stderr, "%s: created token %s… for %s (%s), id %s, %s; it is printed once, below\n",
				show(e.where()), c.Token.Prefix, show(u.Email), u.Role, c.Token.ID, until)
			_, err = fmt.Fprintln(e.stdout, c.Secret.Reveal())
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (shown by tokens list)")
	cmd.Flags().StringVar(&expires, "expires", "", "stop working after a `duration` (90d, 12h) or at a date (2027-01-31)")
	return cmd
}

func newTokensListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the API tokens: prefix, user, status, last use",
		Long: `List every API token, oldest first: its id, prefix (the start of the token,
which names it), name, user, status (active, expired, revoked), creation,
last use (written at most once a minute) and expiry. Never a token or its
hash. It only reads the database.`,
		Example: `  orgdb tokens list
  orgdb tokens list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := e.openRead(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := apitoken.List(ctx, st)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(e.stdout, rows)
			}
			now := st.Now()
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tUSER\tSTATUS\tCREATED (UTC)\tLAST USED (UTC)\tEXPIRES (UTC)")
			for _, r := range rows {
				status := "active"
				switch {
				case r.RevokedAt != nil:
					status = "revoked"
				case r.ExpiresAt != nil && !r.ExpiresAt.After(now.Time):
					status = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Prefix, show(r.Name), show(r.Email), status,
					when(r.CreatedAt), whenPtr(r.LastUsedAt), whenPtr(r.ExpiresAt))
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}

// whenPtr is when for an optional time: "-" when unset.
func whenPtr(t *orgdb.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func newTokensRevokeCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "revoke ID [--by ADMIN_EMAIL]",
		Short: "Revoke an API token, as the operator or an admin",
		Long: `Revoke the API token with ID (orgdb tokens list shows the ids): from then on
it authenticates nobody. As the operator, or, with --by, as that admin of
the organization.`,
		Example: `  orgdb tokens revoke 2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA
  orgdb tokens revoke 2V5OQ4YRJLVXEJ7SQM6ZZ3TXKA --by me@acme.test`,
		Args: positional("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id := args[0]
			if strings.HasPrefix(id, apitoken.Scheme) {
				return usageError("ID is a token id (orgdb tokens list shows them), not the token itself (the value is not repeated)")
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			a := store.Operator("orgdb tokens revoke")
			if by != "" {
				act, _, err := authorized(ctx, st, by, store.AdminOrOperator, "revoke tokens")
				if err != nil {
					return err
				}
				a = act
			}
			err = apitoken.Revoke(ctx, st, a, id)
			if errors.Is(err, orgdb.ErrNotFound) {
				shown := strconv.Quote(id)
				if !inviteID.MatchString(id) && !isCommandName(id) {
					shown = "given (not repeated: it is not a token id)"
				}
				return fmt.Errorf("no token with the id %s; nothing changed (orgdb tokens list shows them)", shown)
			}
			if err != nil {
				return fmt.Errorf("%w; nothing changed", err)
			}
			fmt.Fprintf(e.stdout, "%s: revoked the token %s\n", show(e.where()), id)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "`email` of the admin who revokes it (default: the operator)")
	return cmd
}
