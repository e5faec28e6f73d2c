package main

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/schema"
)

func newMigrateCmd(e *env) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending migrations and print the status table",
		Long: `Create the database if it is missing, apply every pending migration (each
in its own transaction, with its record in schema_migrations) and print the
status of every migration.

An applied migration whose file was edited since is refused, naming the file
and both checksums. --repair-checksums first records the current checksums of
such files, for a deliberate edit that changes nothing in effect (a comment);
it does not re-run them.

Another application's SQLite file is refused untouched.`,
		Example: `  orgdb migrate
  orgdb migrate --db /srv/orgdb.db
  orgdb migrate --repair-checksums`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := litefs.RefuseOnReplica(e.dbPath); err != nil {
				return err // a LiteFS replica: migrate on the primary
			}
			if err := dbfile.CheckPath(e.dbPath, "migrate"); err != nil {
				return err
			}
			if err := privfile.MkdirAll(filepath.Dir(e.dbPath)); err != nil {
				return fmt.Errorf("create database directory: %w", err)
			}
			_, statErr := os.Stat(e.dbPath)
			created := errors.Is(statErr, iofs.ErrNotExist)
			// The checks and the creation of every writer (the store's Open
			// does the same): another application's database is refused
			// before orgdb's DSN would switch it to WAL.
			if err := dbfile.PrepareWriter(ctx, e.dbPath, "migrate"); err != nil {
				return err
			}
			defer e.warnFiles()
			sqlDB := dbfile.Pool(dbfile.DSN(e.dbPath), dbfile.PlainDriver())
			defer sqlDB.Close()
			var fixed []schema.Status
			if repair {
				var err error
				if fixed, err = schema.RepairChecksums(ctx, sqlDB, schema.FS()); err != nil {
					return err
				}
			}
			done, err := schema.Migrate(ctx, sqlDB, schema.FS())
			// The first line names the database, whatever happened.
			switch where := show(e.where()); {
			case created:
				fmt.Fprintf(e.stdout, "%s: created, %d migration(s) applied\n", where, len(done))
			case len(done) > 0:
				fmt.Fprintf(e.stdout, "%s: %d migration(s) applied\n", where, len(done))
			case err == nil:
				fmt.Fprintf(e.stdout, "%s is up to date\n", where)
			}
			for _, s := range fixed {
				fmt.Fprintf(e.stdout, "repaired checksum of %s: %s → %s\n", s.File, short(s.RecordedSHA256), short(s.SHA256))
			}
			for _, m := range done {
				fmt.Fprintf(e.stdout, "applied %s\n", m.File)
			}
			if err != nil {
				return err
			}
			st, err := schema.StatusOf(ctx, sqlDB, schema.FS())
			if err != nil {
				return err
			}
			return printStatus(e.stdout, e.dbPath, st)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair-checksums", false,
		"first record the current checksum of applied migrations edited since (does not re-run them)")
	return cmd
}

func newStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print every migration and whether it is applied; exit 1 unless the database is healthy",
		Long: `Print every migration the binary carries and whether the database has
applied it, when, and with which checksum; an applied file edited since is
marked EDITED. Then whether the database files are private and how the org
API keys are sealed.

The exit code is for scripts and monitors: 0 when the database is healthy
(every migration applied, none edited since); 1, with one line on stderr
saying what to do, when a migration is pending or was edited after it was
applied, when the database has a migration this orgdb does not carry, or
when there is no database or it cannot be opened (the table is still
printed when there is one to print). Files that are not private, keys
under the fixed salt and copies left beside the database by a killed
backup or restore are warnings in the output, not failures.

status only reads: it never creates, migrates or changes the file.`,
		Example: `  orgdb status
  ORGDB_DB=/srv/orgdb.db orgdb status
  orgdb status > /dev/null || echo "orgdb needs attention"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Read-only: status never creates, migrates or switches the
			// journal mode of the file it reports on.
			st, err := dbfile.Check(cmd.Context(), e.dbPath)
			missing := errors.Is(err, iofs.ErrNotExist)
			switch {
			case missing:
				ms, err := schema.Load(schema.FS())
				if err != nil {
					return err
				}
				for _, m := range ms {
					st = append(st, schema.Status{Migration: m})
				}
			case errors.As(err, new(*orgdb.Error)):
				return err // the refusal of a file that is not orgdb's names it
			case err != nil:
				return fmt.Errorf("%s: %w", e.dbPath, err)
			}
			if err := printStatus(e.stdout, e.dbPath, st); err != nil {
				return err
			}
			if missing {
				return fmt.Errorf("no database at %s yet: `orgdb migrate --db %s` creates it", e.dbPath, e.dbPath)
			}
			if err := e.statusProtection(cmd.Context(), e.stdout); err != nil {
				return err
			}
			printStale(e.stdout, e.dbPath)
			return unhealthy(e.dbPath, st)
		},
	}
}

// unhealthy is status's verdict on the migrations: nil when every
// migration is applied and none was edited since, else what is wrong and
// what to run, on one line.
func unhealthy(path string, st []schema.Status) error {
	var edited, pending, unknown []string
	for _, s := range st {
		switch {
		case s.File == "":
			unknown = append(unknown, show(s.Name))
		case s.Edited():
			edited = append(edited, s.File)
		case !s.Applied:
			pending = append(pending, s.File)
		}
	}
	var problems []string
	if len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("the database has %s, which this orgdb does not carry: a newer orgdb migrated it; run that version",
			count(len(unknown), "migration")+" ("+strings.Join(unknown, ", ")+")"))
	}
	if len(edited) > 0 {
		verb := "was"
		if len(edited) > 1 {
			verb = "were"
		}
		problems = append(problems, fmt.Sprintf("%s %s edited after it was applied: restore the file and put the change in a new migration (or, if the edit is deliberate and changes nothing, run `orgdb migrate --repair-checksums --db %s`)",
			strings.Join(edited, ", "), verb, path))
	}
	if len(pending) > 0 {
		problems = append(problems, fmt.Sprintf("%s pending (%s): apply with `orgdb migrate --db %s`",
			count(len(pending), "migration"), strings.Join(pending, ", "), path))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// count is "1 migration" or "N migrations".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func printStatus(w io.Writer, path string, st []schema.Status) error {
	fmt.Fprintf(w, "database %s\n", path)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tFILE\tSTATUS\tAPPLIED AT (UTC)\tSHA256")
	for _, s := range st {
		state, at, file := "pending", "-", s.File
		if s.Applied {
			state, at = "applied", s.AppliedAt.Format("2006-01-02 15:04:05")
		}
		switch {
		case file == "":
			state, file = "applied, file missing", show(s.Name)
		case s.Edited():
			state = fmt.Sprintf("EDITED since applied (was %s)", short(s.RecordedSHA256))
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\t%s\n", s.Version, file, state, at, short(s.SHA256))
	}
	return tw.Flush()
}

// short abbreviates a checksum for display.
func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// printStale lists the temporary copies a killed backup or restore left
// beside the database at path (backup.StaleCopies), with their sizes.
func printStale(w io.Writer, path string) {
	for _, p := range backup.StaleCopies(path) {
		size := "?"
		if fi, err := os.Stat(p); err == nil {
			size = mib(fi.Size())
		}
		fmt.Fprintf(w, "warning: %s (%s) is a copy left by a backup or restore that was killed: the next backup or restore of %s removes it, or remove it yourself (rm %s)\n",
			p, size, path, p)
	}
}
