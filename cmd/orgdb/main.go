// Command orgdb manages the organization database of the agent-ops
// service: it applies the embedded migrations and shows their status.
//
//	orgdb migrate [--db PATH]   apply pending migrations, then print the status table
//	orgdb status  [--db PATH]   print every migration and whether it is applied
//
// The database is --db, else $ORGDB_DB, else ./data/orgdb.db; its directory
// is created when missing. The exit code is 0 on success, 1 on failure (with
// a one-line reason on stderr) and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// DefaultDB is the database used when neither --db nor ORGDB_DB is set.
const DefaultDB = "data/orgdb.db"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// command is one subcommand: its usage line and what it runs.
type command struct {
	usage string
	run   func(ctx context.Context, e *env, args []string) error
}

// env is what a command sees of the process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	dbPath string
}

var commands = map[string]command{
	"migrate": {"migrate [--db PATH]       apply pending migrations and print the status table", cmdMigrate},
	"status":  {"status [--db PATH]        print every migration and whether it is applied", cmdStatus},
}

// errUsage marks an error in the command line: exit code 2.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: orgdb COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(w, "  %s\n", commands[name].usage)
	}
	fmt.Fprintf(w, "\nThe database is --db, else $ORGDB_DB, else ./%s.\n", DefaultDB)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "orgdb: unknown command %q (run orgdb --help)\n", args[0])
		return 2
	}
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	err := cmd.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "orgdb %s: %s\n", args[0], oneLine(err))
		return 2
	default:
		fmt.Fprintf(stderr, "orgdb %s: %s\n", args[0], oneLine(err))
		return 1
	}
}

// flags returns a flag set for a command with the --db flag bound to e.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("orgdb "+name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	def := e.getenv("ORGDB_DB")
	if def == "" {
		def = DefaultDB
	}
	fs.StringVar(&e.dbPath, "db", def, "database file (default: $ORGDB_DB, else ./"+DefaultDB+")")
	return fs
}

// parse parses args and wants exactly nargs positional arguments.
func parse(fs *flag.FlagSet, args []string, nargs int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != nargs {
		return nil, fmt.Errorf("%w: want %d argument(s), got %d (run with --help)", errUsage, nargs, fs.NArg())
	}
	return fs.Args(), nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
