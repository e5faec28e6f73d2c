package main

// What the CLI says about the database's protection: files that group or
// others can access (one line on stderr, from every command that opens
// the database; a line in status with the chmod that fixes it), and org
// API keys still sealed under the fixed salt of older versions (status).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// warnings is the store option that prints the store's warnings (files
// not private, keys under the fixed salt), one line each, on stderr.
func (e *env) warnings() store.Option {
	return store.WithLogger(slog.New(stderrWarnings{e.stderr}))
}

// warnFiles prints one line on stderr if the database or its directory
// is not private, for commands that open it without the store.
func (e *env) warnFiles() {
	if f := privfile.Check(e.dbPath); len(f) > 0 && !litefs.OnLiteFS(e.dbPath) {
		fmt.Fprintln(e.stderr, "orgdb: warning: "+privfile.Describe(f))
	}
}

// stderrWarnings is a slog.Handler writing each warning's message as one
// line, without slog's time and attributes.
type stderrWarnings struct{ w io.Writer }

func (h stderrWarnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h stderrWarnings) Handle(_ context.Context, r slog.Record) error {
	_, err := fmt.Fprintln(h.w, "orgdb: warning: "+oneLine(errors.New(strings.TrimPrefix(r.Message, "orgdb: "))))
	return err
}

func (h stderrWarnings) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h stderrWarnings) WithGroup(string) slog.Handler      { return h }

// printProtection prints status's lines on the files and the sealing of
// the database at e.dbPath, which exists; it reads only. The files are
// checked last, so a -shm file the read-only open made counts.
func (e *env) printProtection(ctx context.Context, w io.Writer) error {
	sealing, err := e.sealing(ctx)
	if err != nil {
		return err
	}
	if litefs.OnLiteFS(e.dbPath) {
		fmt.Fprintln(w, "files: on a LiteFS mount (private to the user who mounted it; keep LiteFS's data.dir private: chmod 700)")
	} else if f := privfile.Check(e.dbPath); len(f) > 0 {
		fmt.Fprintln(w, "files: NOT PRIVATE: "+privfile.Describe(f))
	} else {
		fmt.Fprintln(w, "files: private (the directory and the database files are the owner's only)")
	}
	fmt.Fprintln(w, sealing)
	return nil
}

// sealing is status's line on how the stored keys are sealed.
func (e *env) sealing(ctx context.Context) (string, error) {
	st, err := store.Open(ctx, e.dbPath, store.ReadOnlyAtRest())
	var oe *orgdb.Error
	switch {
	case errors.As(err, &oe) && oe.Reason == store.ReasonNotMigrated:
		return "sealing: unknown until the pending migrations are applied (orgdb migrate)", nil
	case err != nil:
		// The table above shows why (an edited migration, …).
		return "sealing: unknown: the database does not open: " + oneLine(err), nil
	}
	defer st.Close()
	s, err := st.SealingState(ctx)
	if err != nil {
		return "", err
	}
	return sealingLine(s, e.getenv(seal.EnvVar)), nil
}

// sealingLine describes how the stored keys are sealed. env is
// $ORGDB_ENCRYPTION_KEY, "" if unset: a raw key there settles whether the
// fixed salt can be in use without deriving anything.
func sealingLine(s store.SealingState, env string) string {
	s.KeyID = show(s.KeyID) // read from the database
	derivation := fmt.Sprintf("a passphrase key is derived with this database's own salt (PBKDF2-SHA256, %d rounds)", s.Iterations)
	switch {
	case !s.KeysStored:
		return "sealing: no org API key is stored; " + derivation
	case !s.FixedSaltPossible:
		return fmt.Sprintf("sealing: org API keys sealed with key %s; %s", s.KeyID, derivation)
	}
	if k, err := seal.ParseKey(env); err == nil && !k.IsPassphrase() && k.ID() == s.KeyID {
		return fmt.Sprintf("sealing: org API keys sealed with key %s, the raw key in $%s (no salt involved)", s.KeyID, seal.EnvVar)
	}
	return fmt.Sprintf("sealing: FIXED SALT: the org API keys are sealed with key %s, recorded before this database had its own salt: "+
		"if $%s is a passphrase they use the fixed salt of older orgdb versions, the same in every deployment; "+
		"run `orgdb keys rotate` with $%s unset to move them to this database's salt with the same passphrase", s.KeyID, seal.EnvVar, seal.NewKeyEnvVar)
}

// statusProtection is what status prints after the migrations: nothing
// for a database that does not exist, or that is another application's.
func (e *env) statusProtection(ctx context.Context, w io.Writer) error {
	if _, err := dbfile.Inspect(ctx, e.dbPath, schema.FS()); err != nil {
		return nil // reported above by status itself
	}
	return e.printProtection(ctx, w)
}

// rotationTarget is the key keys rotate re-seals under:
// $ORGDB_NEW_ENCRYPTION_KEY, or, when it is unset and old is a
// passphrase, old itself (from the fixed salt to the database's salt).
func rotationTarget(getenv func(string) string, old seal.Key) (seal.Key, error) {
	if getenv(seal.NewKeyEnvVar) == "" && old.IsPassphrase() {
		return old, nil
	}
	return seal.KeyFromEnvVar(getenv, seal.NewKeyEnvVar)
}

// rotated is keys rotate's report; samePassphrase: the rotation kept the
// passphrase and moved the keys to the database's salt.
func rotated(n int, from, to string, samePassphrase bool) string {
	if from == "" {
		from = "(none recorded)"
	}
	if samePassphrase {
		return fmt.Sprintf("re-sealed %d key(s) from key %s (the fixed salt) to key %s (this database's salt); keep %s as it is", n, from, to, seal.EnvVar)
	}
	return fmt.Sprintf("re-sealed %d key(s) from key %s to key %s; now set %s to the new key", n, from, to, seal.EnvVar)
}
