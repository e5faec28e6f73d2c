// Command migratelint finds the migrations that hurt in production. It
// replays every migration of schema/ on a scratch database, empty and
// filled with representative rows, with the production runner, and
// reports one finding per line as
//
//	file:line CODE message
//
// exiting 1 if any finding is not accepted. A finding that is intended is
// accepted by a comment in that migration:
//
//	-- lint:allow CODE why this is intended
//
// Shipped migrations are never edited (the runner refuses a changed
// checksum), so their allowances are in schema/migratelint.allow, one per
// line as "FILE SHA256 CODE reason": editing the file voids them.
//
// The codes: DROP_TABLE, DROP_COLUMN, RENAME_TABLE, RENAME_COLUMN,
// NOT_NULL, UNIQUE, REBUILD_LOST, ROWS_LOST, DROP_CASCADE, D1, FAILS (not
// accepted by lint:allow), FAILS_ON_ROWS and LINT_ALLOW (a lint:allow that is malformed, unused or out of date).
// make lint-migrations runs it; make check runs that.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentops/orgdb/internal/migratelint"
)

func main() {
	dir := flag.String("dir", "schema", "the migrations folder")
	allow := flag.String("allow", "", "the allow file of shipped migrations (default DIR/migratelint.allow)")
	verbose := flag.Bool("v", false, "also list the accepted findings and their reasons")
	flag.Parse()
	if *allow == "" {
		*allow = filepath.Join(*dir, "migratelint.allow")
	}
	res, err := migratelint.Lint(context.Background(), migratelint.Options{Dir: *dir, AllowFile: *allow})
	if err != nil {
		fmt.Fprintln(os.Stderr, "migratelint:", err)
		os.Exit(2)
	}
	var accepted []string
	for _, f := range res.Findings {
		if f.Accepted {
			accepted = append(accepted, fmt.Sprintf("%s %s", filepath.Base(f.Path), f.Code))
			if *verbose {
				fmt.Printf("%s (accepted: %s)\n", f, f.Reason)
			}
		}
	}
	failed := res.Failed()
	for _, f := range failed {
		fmt.Println(f)
	}
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "migratelint: %d finding(s) in %s. Fix the migration; if a finding is intended, accept it with a comment in that migration: -- lint:allow CODE reason\n", len(failed), *dir)
		os.Exit(1)
	}
	msg := fmt.Sprintf("migratelint: %d migrations replayed on empty and filled databases, no findings", res.Migrations)
	if len(accepted) > 0 {
		msg += fmt.Sprintf(" (%d accepted by lint:allow: %s)", len(accepted), strings.Join(accepted, ", "))
	}
	fmt.Println(msg)
}
