package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/internal/privfile"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
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
			if err := store.RefuseOnReplica(e.dbPath); err != nil {
				return err // a LiteFS replica: migrate on the primary
			}
			// Another application's database is refused before orgdb's DSN
			// would switch it to WAL.
			if _, err := schema.Inspect(ctx, e.dbPath, schema.FS()); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return fmt.Errorf("%s: %w", e.dbPath, err)
			}
			if err := privfile.MkdirAll(filepath.Dir(e.dbPath)); err != nil {
				return fmt.Errorf("create database directory: %w", err)
			}
			// Created 0600 before SQLite creates it 0644 less the umask.
			if err := privfile.EnsureFile(e.dbPath); err != nil {
				return err
			}
			defer e.warnFiles()
			sqlDB, err := sql.Open("sqlite3", store.DSN(e.dbPath))
			if err != nil {
				return err
			}
			defer sqlDB.Close()
			if repair {
				fixed, err := schema.RepairChecksums(ctx, sqlDB, schema.FS())
				if err != nil {
					return err
				}
				for _, s := range fixed {
					fmt.Fprintf(e.stdout, "repaired checksum of %s: %s → %s\n", s.File, short(s.RecordedSHA256), short(s.SHA256))
				}
			}
			done, err := schema.Migrate(ctx, sqlDB, schema.FS())
			for _, m := range done {
				fmt.Fprintf(e.stdout, "applied %s\n", m.File)
			}
			if err != nil {
				return err
			}
			if len(done) == 0 {
				fmt.Fprintf(e.stdout, "%s is up to date\n", e.dbPath)
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
		Short: "Print every migration and whether it is applied",
		Long: `Print every migration the binary carries and whether the database has
applied it, when, and with which checksum; an applied file edited since is
marked EDITED.

status only reads: it never creates, migrates or changes the file, and a
missing database is reported with every migration pending.`,
		Example: `  orgdb status
  ORGDB_DB=/srv/orgdb.db orgdb status`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Read-only: status never creates, migrates or switches the
			// journal mode of the file it reports on.
			st, err := schema.Inspect(cmd.Context(), e.dbPath, schema.FS())
			switch {
			case errors.Is(err, iofs.ErrNotExist):
				fmt.Fprintf(e.stdout, "no database at %s yet: `orgdb migrate --db %s` creates it\n", e.dbPath, e.dbPath)
				ms, err := schema.Load(schema.FS())
				if err != nil {
					return err
				}
				for _, m := range ms {
					st = append(st, schema.Status{Migration: m})
				}
			case err != nil:
				return fmt.Errorf("%s: %w", e.dbPath, err)
			}
			if err := printStatus(e.stdout, e.dbPath, st); err != nil {
				return err
			}
			return e.statusProtection(cmd.Context(), e.stdout)
		},
	}
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
