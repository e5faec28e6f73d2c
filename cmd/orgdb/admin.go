package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newAdminCmd(e *env) *cobra.Command {
	return newGroup("admin", "Recover the organization's admin",
		`Commands for an organization without an admin, such as a database left by a
version of the service before roles.`,
		newAdminBootstrapCmd(e),
	)
}

func newAdminBootstrapCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "bootstrap EMAIL",
		Short: "Promote EMAIL to admin if the organization has no admin",
		Long: `Make the existing user with EMAIL an admin, only if the organization has no
admin at all; with an admin it changes nothing (use orgdb users set-role).`,
		Example: `  orgdb admin bootstrap me@acme.test`,
		Args:    positional("EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			promoted, err := st.BootstrapAdmin(ctx, args[0])
			if err != nil {
				return err
			}
			if promoted {
				fmt.Fprintf(e.stdout, "%s is now admin\n", args[0])
			} else {
				fmt.Fprintln(e.stdout, "the organization already has an admin; nothing changed")
			}
			return nil
		},
	}
}
