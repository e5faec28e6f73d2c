// Command orgdb manages the organization database of the agent-ops
// service: migrations, users and roles, invites.
//
//	orgdb migrate [--db PATH]                      apply pending migrations, print the status table
//	orgdb status  [--db PATH]                      print every migration and whether it is applied
//	orgdb users add EMAIL [--name NAME]            sign a user up (the first user becomes admin)
//	orgdb users list                               list users
//	orgdb users set-role EMAIL admin|member        change a role (never the last admin's)
//	orgdb invites create EMAIL [--role R] [--by ADMIN_EMAIL]
//	orgdb invites list                             list invites, newest first, with status
//	orgdb admin bootstrap EMAIL                    promote EMAIL to admin if there is no admin
//	orgdb keys set PROVIDER --by ADMIN_EMAIL       seal and store an LLM API key read from stdin
//	orgdb keys list | delete PROVIDER | rotate | gen-sealing-key
//
// Org API keys are sealed with $ORGDB_ENCRYPTION_KEY (base64 of 32 bytes);
// keys rotate re-seals them under $ORGDB_NEW_ENCRYPTION_KEY.
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
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/agentops/orgdb/store"
)

// DefaultDB is the database used when neither --db nor ORGDB_DB is set.
const DefaultDB = "data/orgdb.db"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// command is one subcommand: its name, usage line and what it runs.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, e *env, args []string) error
}

// env is what a command sees of the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	dbPath string
}

var commands = []command{
	{"migrate", "migrate                                apply pending migrations and print the status table", cmdMigrate},
	{"status", "status                                 print every migration and whether it is applied", cmdStatus},
	{"users add", "users add EMAIL [--name NAME]          sign a user up; the first user becomes admin", cmdUsersAdd},
	{"users list", "users list                             list users, oldest first", cmdUsersList},
	{"users set-role", "users set-role EMAIL admin|member      change a user's role (never the last admin's)", cmdUsersSetRole},
	{"invites create", "invites create EMAIL [--role R] [--by ADMIN_EMAIL]\n" +
		"                                         invite an email (role member unless --role; by the first admin unless --by)", cmdInvitesCreate},
	{"invites list", "invites list                           list invites, newest first, with their status", cmdInvitesList},
	{"admin bootstrap", "admin bootstrap EMAIL                  promote EMAIL to admin if the organization has no admin", cmdAdminBootstrap},
	{"keys set", "keys set PROVIDER --by ADMIN_EMAIL     seal and store the org's key for PROVIDER, read from stdin", cmdKeysSet},
	{"keys list", "keys list                              show which providers have an org key (never the key)", cmdKeysList},
	{"keys delete", "keys delete PROVIDER                   remove the org's key for PROVIDER", cmdKeysDelete},
	{"keys rotate", "keys rotate                            re-seal every key from $ORGDB_ENCRYPTION_KEY to $ORGDB_NEW_ENCRYPTION_KEY", cmdKeysRotate},
	{"keys gen-sealing-key", "keys gen-sealing-key                   print a new random sealing key for ORGDB_ENCRYPTION_KEY", cmdKeysGen},
}

// groups are the commands that take a subcommand.
var groups = map[string]bool{"users": true, "invites": true, "admin": true, "keys": true}

// errUsage marks an error in the command line: exit code 2.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: orgdb COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\n", c.usage)
	}
	fmt.Fprintf(w, "\nEvery command takes --db PATH; the database is --db, else $ORGDB_DB, else ./%s.\n", DefaultDB)
	fmt.Fprintln(w, "Commands other than status create the database and apply pending migrations first.")
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name, rest := args[0], args[1:]
	if groups[name] && len(rest) > 0 {
		name, rest = name+" "+rest[0], rest[1:]
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "orgdb: unknown command %q (run orgdb --help)\n", strings.Join(args[:min(2, len(args))], " "))
		return 2
	}
	args = []string{name}
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := commands[i].run(ctx, e, rest)
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

// open creates the database's directory, opens the database and applies
// pending migrations: for the commands that write.
func (e *env) open(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	if err := os.MkdirAll(filepath.Dir(e.dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	return store.Open(ctx, e.dbPath, opts...)
}

// openRead opens the database read-only: a command that only reads never
// creates, migrates or changes a file, so a typo'd --db is an error that
// names the path rather than a new empty database. A command is one-shot,
// so a read-only file at rest can be read too (store.ReadOnlyAtRest).
func (e *env) openRead(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	return store.Open(ctx, e.dbPath, append(opts, store.ReadOnlyAtRest())...)
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

// parse parses args, flags before or after the positional arguments, and
// wants exactly nargs positional arguments.
func parse(fs *flag.FlagSet, args []string, nargs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != nargs {
		return nil, fmt.Errorf("%w: want %d argument(s), got %d (run with --help)", errUsage, nargs, len(pos))
	}
	return pos, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
