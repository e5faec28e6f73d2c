package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// newKeyEnvVar holds the key that keys rotate re-seals under (the store's
// refusals name it too).
const newKeyEnvVar = "ORGDB_NEW_ENCRYPTION_KEY"

func cmdKeysSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags("keys set")
	by := fs.String("by", "", "email of the admin setting the key (required)")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *by == "" {
		return fmt.Errorf("%w: --by ADMIN_EMAIL is required", errUsage)
	}
	provider, err := orgdb.ParseProvider(pos[0])
	if err != nil {
		return err
	}
	key, err := seal.KeyFromEnv(e.getenv)
	if err != nil {
		return err
	}
	// The key comes from stdin only: an argument would end up in shell
	// history and in every process listing.
	b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	if err != nil {
		return fmt.Errorf("read the key from stdin: %w", err)
	}
	st, err := e.open(ctx, store.WithSealingKey(key))
	if err != nil {
		return err
	}
	defer st.Close()
	admin, err := st.GetUserByEmail(ctx, *by)
	if err != nil {
		return err
	}
	v, err := st.SetOrgAPIKey(ctx, provider, seal.NewSecret(string(b)), admin.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s key set by %s, sealed with key %s\n", v.Provider, admin.Email, key.ID())
	return nil
}

func cmdKeysList(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("keys list"), args, 0); err != nil {
		return err
	}
	st, err := e.openRead(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	views, err := st.ListOrgAPIKeyViews(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSET\tSET BY\tUPDATED (UTC)\tSEALED WITH\tFALLBACK")
	// The views list stored keys only; every provider gets a line.
	for _, p := range orgdb.Providers() {
		set, by, updated, with := "no", "-", "-", "-"
		if i := slices.IndexFunc(views, func(v store.OrgAPIKeyView) bool { return v.Provider == p }); i >= 0 {
			v := views[i]
			set, updated, with = "yes", when(v.UpdatedAt), "key "+v.SealedWith
			if by, err = setter(ctx, st, v.SetBy); err != nil {
				return err
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p, set, by, updated, with, p.EnvVar())
	}
	return tw.Flush()
}

// setter is the email of the user with id setBy.
func setter(ctx context.Context, st *store.Store, setBy string) (string, error) {
	u, err := st.GetUser(ctx, setBy)
	if err != nil {
		return "", err
	}
	return u.Email, nil
}

func cmdKeysDelete(ctx context.Context, e *env, args []string) error {
	pos, err := parse(e.flags("keys delete"), args, 1)
	if err != nil {
		return err
	}
	provider, err := orgdb.ParseProvider(pos[0])
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteOrgAPIKey(ctx, provider); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s key deleted; sessions fall back to %s\n", provider, provider.EnvVar())
	return nil
}

func cmdKeysRotate(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("keys rotate"), args, 0); err != nil {
		return err
	}
	old, err := seal.KeyFromEnv(e.getenv)
	if err != nil {
		return err
	}
	next, err := seal.KeyFromEnvVar(e.getenv, newKeyEnvVar)
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
	n, err := st.RotateSealingKey(ctx, old, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "re-sealed %d key(s) from key %s to key %s; now set %s to the new key\n", n, old.ID(), next.ID(), seal.EnvVar)
	return nil
}

func cmdKeysGen(_ context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("keys gen-sealing-key"), args, 0); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, seal.GenerateKey())
	return nil
}
