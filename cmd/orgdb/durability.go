package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/store"
)

// addDurability adds the backup and restore commands and the global
// --external-checkpoints flag to root.
func addDurability(root *cobra.Command, e *env) {
	root.PersistentFlags().BoolVar(&e.durability.external, "external-checkpoints", false,
		"never checkpoint the WAL: another process does (Litestream); default $ORGDB_EXTERNAL_CHECKPOINTS")
	f := root.PersistentFlags().Lookup("external-checkpoints")
	e.durability.given = func() bool { return f.Changed }
	root.AddCommand(newBackupCmd(e))
	root.AddCommand(newRestoreCmd(e))
}

// durabilityFlags are the global flags of this file.
type durabilityFlags struct {
	external bool        // --external-checkpoints
	given    func() bool // whether it was given
}

// storeOptions are the options every command that opens the database
// read-write passes: --external-checkpoints, else
// $ORGDB_EXTERNAL_CHECKPOINTS (1/true/0/false).
func (e *env) storeOptions() ([]store.Option, error) {
	on := e.durability.external
	if e.durability.given == nil || !e.durability.given() {
		if v := e.getenv("ORGDB_EXTERNAL_CHECKPOINTS"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, usageError(fmt.Sprintf("ORGDB_EXTERNAL_CHECKPOINTS=%q: want 1 or 0 (true or false)", v))
			}
			on = b
		}
	}
	if on {
		return []store.Option{store.WithExternalCheckpoints()}, nil
	}
	return nil, nil
}

func newBackupCmd(e *env) *cobra.Command {
	var to string
	var force bool
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Write a consistent, verified copy of the database, even while the service writes it",
		Long: `Copy the database to FILE with SQLite's online backup API: every table as of
one instant, while the service (or anything else) keeps reading and writing
it. The copy is written to a temporary file beside FILE, checked with
PRAGMA integrity_check, fsynced and renamed into place; it is a standalone
file (mode 0600; a missing directory is created with mode 0700). An existing
FILE is refused unless --force, and so is FILE inside a LiteFS mount; even
with --force, a FILE that is a database in use (another process has it
open, or a -wal or -shm file is beside it) is refused. FILE and --db must
be regular files (a FIFO, a device, a socket is refused). The
database is only read (one with pending migrations can be backed up): its
contents do not change, though SQLite may leave an empty -wal and -shm
file (mode 0600) beside a database no process had open.
On a terminal, stderr shows the progress of a large copy.`,
		Example: `  orgdb backup --to backups/orgdb-$(date -u +%Y%m%dT%H%M%SZ).db
  orgdb --db /srv/orgdb/orgdb.db backup --to /srv/backups/orgdb.db --force`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usageError("--to needs a file path")
			}
			opts := []backup.Option{backup.WithProgress(progress(e.stderr, "backup"))}
			if force {
				opts = append(opts, backup.Overwrite())
			}
			info, err := backup.File(cmd.Context(), e.dbPath, to, opts...)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "backed up %s to %s (%s, integrity ok) in %s\n", e.dbPath, info.Path, mib(info.Bytes), info.Duration.Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the backup `file` to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE if it exists")
	_ = cmd.MarkFlagRequired("to") // the flag exists: cannot fail
	return cmd
}

func newRestoreCmd(e *env) *cobra.Command {
	var from string
	var create bool
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Replace the database with a verified backup, keeping the previous file",
		Long: `Replace the database with a copy of FILE (a backup written by orgdb backup, or
restored by litestream restore). It first refuses, changing nothing, while
any other process has the database open (the service, an orgdb command,
litestream replicate: stop them first), and a FILE that is not a SQLite
database, fails PRAGMA integrity_check, is not an orgdb database, records a
migration this binary does not have or whose checksum differs from this
binary's, or whose schema differs from what its migrations create. The
copy is then written into the database in place, under SQLite's locks, in
one transaction (a crash midway is undone at the next open): a process
that opens the database meanwhile waits, then sees the restored database,
or fails after 5 s saying the database is locked. The previous database
is kept beside it as <database>.bak-<UTC timestamp>. A backup older than
this binary is restored; orgdb migrate, or the service's next start,
applies the migrations it lacks. The database must exist and be an orgdb
database (a mistyped --db is refused); --create restores into a new file.
A --db that is a symbolic link is followed: the file it points to is
restored. Copies a killed backup or restore left beside the database are
removed first. On a LiteFS mount restore is refused: use litefs import
on the primary.`,
		Example: `  systemctl stop orgdb
  orgdb --db /srv/orgdb/orgdb.db restore --from /srv/backups/orgdb.db
  systemctl start orgdb`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError("--from needs a file path")
			}
			var opts []backup.RestoreOption
			if create {
				opts = append(opts, backup.CreateNew())
			}
			info, err := backup.Restore(cmd.Context(), e.dbPath, from, opts...)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "restored %s from %s (%s, integrity ok, migrations match this orgdb) in %s\n",
				info.Path, from, mib(info.Bytes), info.Duration.Round(time.Millisecond))
			if info.Previous != "" {
				fmt.Fprintf(e.stdout, "the previous database is kept as %s\n", info.Previous)
			}
			if info.Pending > 0 {
				fmt.Fprintf(e.stdout, "the backup lacks %d migration(s) of this orgdb: run orgdb migrate (or start the service) to apply them\n", info.Pending)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the backup `file` to restore")
	cmd.Flags().BoolVar(&create, "create", false, "restore into a new database if none exists at --db")
	_ = cmd.MarkFlagRequired("from") // the flag exists: cannot fail
	return cmd
}

// progressMin is the size from which a copy shows its progress.
const progressMin = 64 << 20

// progress returns a progress callback that redraws one line on w when w
// is a terminal and the database is large, and does nothing otherwise.
func progress(w io.Writer, what string) func(done, total int64) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(done, total int64) {
		if total < progressMin {
			return
		}
		if done < total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(f, "\r%s: %s of %s (%d%%)", what, mib(done), mib(total), done*100/total)
		if done == total {
			fmt.Fprintln(f, "; checking integrity")
		}
	}
}

// mib formats a size in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
