package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

func newKeysCmd(e *env) *cobra.Command {
	g := newGroup("keys", "Manage the org's LLM API keys, sealed at rest",
		`Set, list, delete and re-seal the organization's LLM API keys (anthropic,
openai, google). Keys are sealed with $`+seal.EnvVar+` (base64 of 32 bytes,
from orgdb keys gen-sealing-key); a provider without an org key falls back to
its environment variable (ANTHROPIC_API_KEY, OPENAI_API_KEY, GOOGLE_API_KEY).`,
		newKeysSetCmd(e),
		newKeysListCmd(e),
		newKeysDeleteCmd(e),
		newKeysRotateCmd(e),
		newKeysGenCmd(e),
	)
	g.Example = `  export ORGDB_ENCRYPTION_KEY=$(orgdb keys gen-sealing-key)
  orgdb keys set anthropic --by me@acme.test
  orgdb keys list`
	return g
}

func newKeysSetCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "set PROVIDER --by ADMIN_EMAIL",
		Short: "Seal and store the org's key for PROVIDER, read from stdin",
		Long: `Store the organization's API key for PROVIDER (anthropic, openai or google),
sealed with $` + seal.EnvVar + `, as set by the admin --by. It replaces a key
already set for PROVIDER.

The key is read from stdin: in a terminal, orgdb asks for it on stderr and
reads it without echo; from a pipe or a file, it reads it all, with no
prompt. Whitespace around the key is dropped; a key with a space, a line
break or a control character inside (two lines piped in) is refused and
nothing is stored. The key is never an argument: it would end up in the shell history
and in every process listing.`,
		Example: `  export ` + seal.EnvVar + `=$(orgdb keys gen-sealing-key)
  orgdb keys set anthropic --by me@acme.test           # type the key at the prompt
  printf %s "$KEY" | orgdb keys set openai --by me@acme.test`,
		Args:              cobra.MatchAll(positional("PROVIDER"), providers().arg(0)),
		ValidArgsFunction: providers().complete(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			provider, err := orgdb.ParseProvider(args[0])
			if err != nil {
				return usageError(err.Error())
			}
			key, err := seal.KeyFromEnv(e.getenv)
			if err != nil {
				return err
			}
			st, err := e.open(ctx, store.WithSealingKey(key))
			if err != nil {
				return err
			}
			defer st.Close()
			// Refused before the key is typed (the store decides again
			// when it stores it).
			a, admin, err := authorized(ctx, st, by, store.AdminOnly, "set the org's API keys")
			if err != nil {
				return err
			}
			b, err := e.readSecret(fmt.Sprintf("%s API key (input hidden): ", provider))
			if err != nil {
				return fmt.Errorf("read the %s key: %w; nothing stored", provider, err)
			}
			if strings.TrimSpace(string(b)) == "" {
				return fmt.Errorf("no %s key on stdin; nothing stored (type it at the prompt, or pipe it: printf %%s \"$KEY\" | orgdb keys set %s --by %s)", provider, provider, show(admin.Email))
			}
			v, err := st.SetOrgAPIKey(ctx, a, provider, seal.NewSecret(string(b)))
			if err != nil {
				return asAdmin(err, admin, "set the org's API keys")
			}
			fmt.Fprintf(e.stdout, "%s: %s key set by %s, sealed with key %s\n", show(e.where()), v.Provider, show(admin.Email), v.SealedWith)
			return nil
		},
	}
	byFlag(cmd, &by, "sets the key")
	return cmd
}

func newKeysListCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show which providers have an org key (never the key)",
		Long: `Print a line per provider: whether the organization has a key for it, who
set it and when, the id of the sealing key it is sealed with, and the
environment variable a provider without an org key falls back to. With
--json, a JSON array of the stored keys' views as the service serves them
(a provider without an org key has none). It never prints a key, sealed or
not, and only reads the database.`,
		Example: `  orgdb keys list
  orgdb keys list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := e.openRead(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			views, err := st.ListOrgAPIKeyViews(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(e.stdout, views)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROVIDER\tSET\tSET BY\tUPDATED (UTC)\tSEALED WITH\tFALLBACK")
			// The views list stored keys only; every provider gets a line.
			for _, p := range orgdb.Providers() {
				set, by, updated, with := "no", "-", "-", "-"
				if i := slices.IndexFunc(views, func(v store.OrgAPIKeyView) bool { return v.Provider == p }); i >= 0 {
					v := views[i]
					set, updated, with = "yes", when(v.UpdatedAt), "key "+show(v.SealedWith)
					if by, err = setter(ctx, st, v.SetBy); err != nil {
						return err
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p, set, by, updated, with, p.EnvVar())
			}
			return tw.Flush()
		},
	}
	jsonFlag(cmd, &asJSON)
	return cmd
}

// setter is the email of the user with id setBy, as printed.
func setter(ctx context.Context, st *store.Store, setBy string) (string, error) {
	u, err := st.GetUser(ctx, setBy)
	if err != nil {
		return "", err
	}
	return show(u.Email), nil
}

func newKeysDeleteCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "delete PROVIDER --by ADMIN_EMAIL",
		Short: "Remove the org's key for PROVIDER, as an admin",
		Long: `Delete the organization's key for PROVIDER (anthropic, openai or google), on
behalf of the admin --by; sessions then fall back to the provider's
environment variable.`,
		Example:           `  orgdb keys delete anthropic --by me@acme.test`,
		Args:              cobra.MatchAll(positional("PROVIDER"), providers().arg(0)),
		ValidArgsFunction: providers().complete(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			provider, err := orgdb.ParseProvider(args[0])
			if err != nil {
				return usageError(err.Error())
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
			if err := st.DeleteOrgAPIKey(ctx, a, provider); err != nil {
				return asAdmin(err, admin, "delete the org's API keys")
			}
			fmt.Fprintf(e.stdout, "%s: %s key deleted; sessions fall back to %s\n", show(e.where()), provider, provider.EnvVar())
			return nil
		},
	}
	byFlag(cmd, &by, "deletes the key")
	return cmd
}

func newKeysRotateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Re-seal every key from $" + seal.EnvVar + " to $" + seal.NewKeyEnvVar,
		Long: `Re-seal every stored key from the sealing key in $` + seal.EnvVar + ` to the one in
$` + seal.NewKeyEnvVar + `, in one transaction: if any key fails to open, nothing
changes. Run again, it changes nothing. Then set ` + seal.EnvVar + ` to the new key
and restart the service with it.

With a passphrase in $` + seal.EnvVar + ` and $` + seal.NewKeyEnvVar + ` unset, it moves keys
sealed under the fixed salt of older orgdb versions (orgdb status says FIXED
SALT) to this database's own salt, keeping the passphrase.

It acts as the operator: whoever holds the sealing keys.`,
		Example: `  export ` + seal.NewKeyEnvVar + `=$(orgdb keys gen-sealing-key)
  orgdb keys rotate
  export ` + seal.EnvVar + `=$` + seal.NewKeyEnvVar + `

  # a passphrase key, from the fixed salt to this database's salt
  ` + seal.EnvVar + `='passphrase:...' orgdb keys rotate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			old, err := seal.KeyFromEnv(e.getenv)
			if err != nil {
				return err
			}
			next, err := rotationTarget(e.getenv, old)
			if err != nil {
				return err
			}
			// Opened without a sealing key: a rotation run again finds the new key
			// recorded, which opening with the old one would refuse.
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			from, _, err := st.SealingKeyID(ctx)
			if err != nil {
				return err
			}
			n, err := st.RotateSealingKey(ctx, store.Operator("orgdb keys rotate"), old, next)
			if err != nil {
				return err
			}
			to, _, err := st.SealingKeyID(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: %s\n", show(e.where()), rotated(n, from, to, e.getenv(seal.NewKeyEnvVar) == ""))
			return nil
		},
	}
}

func newKeysGenCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "gen-sealing-key",
		Short: "Print a new random sealing key for $" + seal.EnvVar,
		Long: `Print a new random sealing key (base64 of 32 bytes) for $` + seal.EnvVar + ` or
$` + seal.NewKeyEnvVar + `. It touches no database.`,
		Example: `  export ` + seal.EnvVar + `=$(orgdb keys gen-sealing-key)`,
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			fmt.Fprintln(e.stdout, seal.GenerateKey())
			return nil
		},
	}
}
