package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newRoleCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "role",
		Short: "Say whether this database is standalone, a LiteFS primary or a replica, and its position",
		Long: `Print where the database stands among LiteFS nodes: standalone (not on a
LiteFS mount), the primary (it takes writes), or a replica of HOST (it serves
reads; writes go to HOST), and its replication position (TXID/checksum).

Before a planned failover, run it on the primary and on the replica: when the
positions are equal the replica has every acknowledged write.`,
		Example: `  orgdb role --db /litefs/orgdb.db`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := e.openRead(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			r := st.Role()
			if !r.LiteFS {
				fmt.Fprintf(e.stdout, "role: standalone (%s is not on a LiteFS mount)\n", e.dbPath)
				return nil
			}
			pos, err := st.Pos()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "role: %s\nposition: %s\n", r, pos)
			return nil
		},
	}
}
