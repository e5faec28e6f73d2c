package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("migrate"), args, 0); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(e.dbPath), 0o755); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	sqlDB, err := sql.Open("sqlite3", store.DSN(e.dbPath))
	if err != nil {
		return err
	}
	defer sqlDB.Close()
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
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("status"), args, 0); err != nil {
		return err
	}
	var st []schema.Status
	if _, err := os.Stat(e.dbPath); errors.Is(err, fs.ErrNotExist) {
		// Do not create the file just to say that nothing is applied.
		ms, err := schema.Load(schema.FS())
		if err != nil {
			return err
		}
		for _, m := range ms {
			st = append(st, schema.Status{Migration: m})
		}
	} else {
		sqlDB, err := sql.Open("sqlite3", store.DSN(e.dbPath))
		if err != nil {
			return err
		}
		defer sqlDB.Close()
		if st, err = schema.StatusOf(ctx, sqlDB, schema.FS()); err != nil {
			return err
		}
	}
	return printStatus(e.stdout, e.dbPath, st)
}

func printStatus(w io.Writer, path string, st []schema.Status) error {
	fmt.Fprintf(w, "database %s\n", path)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tFILE\tSTATUS\tAPPLIED AT (UTC)\tSHA256")
	for _, s := range st {
		state, at, file, sum := "pending", "-", s.File, s.SHA256
		if s.Applied {
			state, at = "applied", s.AppliedAt.Format("2006-01-02 15:04:05")
		}
		if file == "" {
			state, file = "applied, file missing", s.Name
		}
		if len(sum) > 12 {
			sum = sum[:12]
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\t%s\t%s\n", s.Version, file, state, at, sum)
	}
	return tw.Flush()
}
