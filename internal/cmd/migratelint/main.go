// Command migratelint finds the migrations that hurt in production. It
// replays every migration of schema/ on a scratch database, empty and
// filled with representative rows, with the production runner, and
// reports one finding per line as
//
//	file:line CODE message
//
// exiting 1 if any finding is not accepted (2 if the lint could not run).
// A finding that is intended is accepted by a comment in that migration:
//
//	-- lint:allow CODE why this is intended
//
// Shipped migrations are never edited (the runner refuses a changed
// checksum), so their allowances are in schema/migratelint.allow, one per
// line as "FILE SHA256 CODE reason": editing the file voids them.
//
// The codes: DROP_TABLE, DROP_COLUMN, RENAME_TABLE, RENAME_COLUMN,
// NOT_NULL, MODIFY_NOT_NULL, DROP_NOT_NULL, TYPE_CHANGE, PK_CHANGE, UNIQUE,
// SHADOWED_UNIQUE, REBUILD_LOST, ROWS_LOST, VALUES_CHANGED,
// POSITIONAL_COPY, DATA_CHANGE, DROP_CASCADE, FK_PRAGMA, D1,
// VERSION_ORDER, FAILS (not accepted by lint:allow), FAILS_ON_ROWS and
// LINT_ALLOW (a lint:allow that is malformed, unused or out of date).
//
// VERSION_ORDER needs the migrations already shipped: those summed in the
// migrations.sum of the branch new migrations merge into, read with git
// from origin/main and main (those of them this clone has), or from the
// revisions given with -base. Outside a git clone, or in one with neither
// branch, the migrations.sum in the folder stands in, which catches a new
// file until make generate sums it. The success line says which was used.
//
// make lint-migrations runs it; make check runs that.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentops/orgdb/internal/migratelint"
	"github.com/agentops/orgdb/internal/shipped"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// defaultBases are the branches whose migrations.sum lists the shipped
// migrations, when -base is not given: the remote's main (a fresh CI
// clone has it) and the local one.
var defaultBases = shipped.DefaultRefs

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("migratelint", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", "schema", "the migrations folder")
	allow := fl.String("allow", "", "the allow file of shipped migrations (default DIR/migratelint.allow)")
	verbose := fl.Bool("v", false, "also list the accepted findings and their reasons")
	var bases []string
	fl.Func("base", "a git revision whose DIR/migrations.sum lists the shipped migrations, for VERSION_ORDER (repeatable; default: "+strings.Join(defaultBases, " and ")+", those that exist)", func(s string) error {
		bases = append(bases, s)
		return nil
	})
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "migratelint: unexpected argument %q: the folder is given with -dir\n", fl.Arg(0))
		return 2
	}
	if *allow == "" {
		*allow = filepath.Join(*dir, "migratelint.allow")
	}
	if _, err := os.Stat(*dir); err != nil {
		fmt.Fprintf(stderr, "migratelint: %v: -dir names the migrations folder (default schema, run from the repository root)\n", err)
		return 2
	}
	shipped, against, err := shippedSets(ctx, *dir, bases)
	if err != nil {
		fmt.Fprintln(stderr, "migratelint:", err)
		return 2
	}
	res, err := migratelint.Lint(ctx, migratelint.Options{Dir: *dir, AllowFile: *allow, Shipped: shipped})
	if err != nil {
		fmt.Fprintln(stderr, "migratelint:", err)
		return 2
	}
	var accepted []string
	for _, f := range res.Findings {
		if f.Accepted {
			accepted = append(accepted, fmt.Sprintf("%s %s", filepath.Base(f.Path), f.Code))
			if *verbose {
				fmt.Fprintf(stdout, "%s (accepted: %s)\n", f, f.Reason)
			}
		}
	}
	failed := res.Failed()
	for _, f := range failed {
		fmt.Fprintln(stdout, f)
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "migratelint: %d finding(s) in %s. Fix the migration; if a finding is intended, accept it with a comment in that migration: -- lint:allow CODE reason\n", len(failed), *dir)
		return 1
	}
	msg := fmt.Sprintf("migratelint: %d migrations replayed on empty and filled databases, no findings", res.Migrations)
	if len(accepted) > 0 {
		msg += fmt.Sprintf(" (%d accepted by lint:allow: %s)", len(accepted), strings.Join(accepted, ", "))
	}
	fmt.Fprintf(stdout, "%s; numbering checked against %s\n", msg, against)
	return 0
}

// shippedSets returns the shipped migrations VERSION_ORDER judges by and
// says where they came from. With -base, every revision given must exist.
// Without, the default branches that exist are used; if there are none
// (or no git), the folder's own migrations.sum.
func shippedSets(ctx context.Context, dir string, bases []string) ([]migratelint.Shipped, string, error) {
	// -base, else $SHIPPED, else origin/main and main: as make generate
	// and sumcheck judge what has shipped (internal/shipped).
	bases, explicit := shipped.Refs(bases)
	found, err := migratelint.ShippedAt(ctx, dir, bases...)
	noGit := errors.Is(err, migratelint.ErrNoGit)
	switch {
	case err != nil && explicit:
		return nil, "", fmt.Errorf("-base: %w", err)
	case err != nil && !noGit:
		return nil, "", err
	case explicit:
		for _, b := range bases {
			if _, ok := found[b]; !ok {
				return nil, "", fmt.Errorf("-base %s: no such revision in this clone (git fetch it, or name another revision)", b)
			}
		}
	}
	var sets []migratelint.Shipped
	var froms []string
	for _, b := range bases {
		if s, ok := found[b]; ok {
			sets = append(sets, s)
			froms = append(froms, s.From)
		}
	}
	if len(sets) > 0 {
		return sets, strings.Join(froms, " and "), nil
	}
	why := "no " + strings.Join(defaultBases, " or ") + " in this clone"
	if noGit {
		why = "not a git clone"
	}
	own := filepath.Join(dir, "migrations.sum")
	b, err := os.ReadFile(own)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Sprintf("nothing (%s, and no %s): pass -base REF", why, own), nil
	}
	if err != nil {
		return nil, "", err
	}
	s, err := migratelint.ParseSum(own, b)
	if err != nil {
		return nil, "", err
	}
	return []migratelint.Shipped{s}, fmt.Sprintf("%s only (%s: pass -base REF to judge by the branch this merges into)", own, why), nil
}
