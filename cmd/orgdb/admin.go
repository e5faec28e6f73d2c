package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/store"
)

func newAdminCmd(e *env) *cobra.Command {
	g := newGroup("admin", "Recover the organization's admin",
		`Commands for an organization without an admin, such as a database left by a
version of the service before roles.`,
		newAdminBootstrapCmd(e),
	)
	g.Example = `  orgdb admin bootstrap me@acme.test`
	return g
}

func newAdminBootstrapCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "bootstrap EMAIL",
		Short: "Promote EMAIL to admin if the organization has no admin",
		Long: `Make the existing user with EMAIL an admin, only if the organization has no
admin at all; with an admin it changes nothing (use orgdb users set-role).
It acts as the operator: with no admin, no user can.`,
		Example: `  orgdb admin bootstrap me@acme.test`,
		Args:    positional("EMAIL"),
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
			promoted, err := st.BootstrapAdmin(ctx, store.Operator("orgdb admin bootstrap"), email)
			if err != nil {
				return err
			}
			if promoted {
				fmt.Fprintf(e.stdout, "%s: %s is now admin\n", show(e.where()), email)
				return nil
			}
			var admins []string
			for u, err := range st.AllUsers(ctx) {
				if err != nil {
					return err
				}
				if u.Role == orgdb.RoleAdmin {
					if admins = append(admins, show(u.Email)); len(admins) == 3 {
						break
					}
				}
			}
			fmt.Fprintf(e.stdout, "%s: the organization already has an admin (%s); nothing changed (orgdb users set-role changes roles)\n", show(e.where()), strings.Join(admins, ", "))
			return nil
		},
	}
}
