// Command orgdb manages the organization database of the agent-ops
// service: migrations, users and roles, invites, org settings, org API
// keys. Run `orgdb --help` (or `orgdb help COMMAND`) for every command.
//
// # Adding a command
//
// The CLI is a github.com/spf13/cobra command tree built by newRoot(e) in
// this file; nothing lives in package-level variables, so tests run in
// parallel. To add a command:
//
//  1. Write it in its own file, cmd/orgdb/<name>.go, as a constructor
//     func newXCmd(e *env) *cobra.Command (a group: newXCmd returns
//     newGroup(...) with its subcommands). Fill in Use (with the positional
//     arguments, e.g. "restore FILE"), Short, Long, Example, Args
//     (positional("FILE"), or noArgs) and RunE. In RunE open the database
//     with e.open (read-write: applies pending migrations, refuses a
//     missing file) or e.openRead (read-only, for commands that only
//     read), print results to e.stdout and return errors: an error
//     returned by RunE is a refusal (exit 1, one line on stderr);
//     usageError(...) is a usage error (exit 2). A command that writes
//     starts its result line with e.where(), the database's absolute path;
//     one that acts as an admin takes --by (byFlag, actor in actor.go).
//     Messages speak the user's language: flags and commands, never a Go
//     identifier (checkRun in cli_test.go checks every row).
//  2. Register it with one line in newRoot below: root.AddCommand(newXCmd(e)).
//  3. Add its rows to the table in cli_test.go: success, each refusal, a
//     usage error. TestEveryCommandInTable fails for a command without rows.
//
// The database is --db, else $ORGDB_DB, else ./data/orgdb.db. The exit code
// is 0 on success, 1 on a refusal (one line on stderr) and 2 on a usage
// error (the error and the command's usage line on stderr).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/store"
)

// DefaultDB is the database used when neither --db nor ORGDB_DB is set.
const DefaultDB = "data/orgdb.db"

func main() {
	// Ctrl-C or SIGTERM cancels the command's context: a backup or restore
	// stops and removes its temporary copy. (secretInput's prompt restores
	// the terminal itself.)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command sees of the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// dbPath is the database file: --db, else $ORGDB_DB, else DefaultDB
	// (set by newRoot and the flag).
	dbPath string
	// durability is the state of durability.go's global flags.
	durability durabilityFlags
}

// newRoot builds the command tree bound to e.
func newRoot(e *env) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "orgdb",
		Short: "Manage the organization database of the agent-ops service",
		Long: `orgdb manages the organization database of the agent-ops service: its
migrations, users and roles, invites, the org settings, and the org's LLM
API keys.

The database is --db, else $ORGDB_DB, else ./` + DefaultDB + `. Only migrate
(and restore --create) creates it: every other command refuses a missing
file, naming it. Commands that write apply pending migrations first and
name the database in their result line; commands that only read (status,
users list, invites list, keys list, settings show) never change it.

Results go to stdout, everything else (prompts, errors) to stderr. Exit
codes: 0 success, 1 refusal (one line on stderr; for status, a database
that is not healthy), 2 usage error (the error and the command's usage line
on stderr).`,
		Example: `  orgdb migrate
  orgdb users add me@acme.test --name Me
  orgdb --db /srv/orgdb.db users list --json
  orgdb help keys set`,
		Args: subcommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				_, err := fmt.Fprintln(e.stdout, versionString())
				return err
			}
			return help(cmd, args)
		},
		// An unknown command within 2 edits of one is suggested.
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true, // run prints errors, one line, on stderr
		SilenceUsage:               true, // and the usage line after a usage error only
	}
	// --db's default is resolved here, not in a hook that a command's own
	// PersistentPreRunE would replace; the help shows it once, as text.
	if e.dbPath = e.getenv("ORGDB_DB"); e.dbPath == "" {
		e.dbPath = DefaultDB
	}
	root.PersistentFlags().Var(pathValue{&e.dbPath}, "db", "the database `file` (default $ORGDB_DB, else ./"+DefaultDB+")")
	root.PersistentFlags().Lookup("db").DefValue = "" // the usage says it
	root.PersistentFlags().BoolP("help", "h", false, "show the help of the command")
	// Not cobra's Version: its version template would link text/template,
	// whose reflection keeps the linker from dropping unused methods
	// (about 2.7 MB more binary).
	root.Flags().BoolVar(&showVersion, "version", false, "print the version of orgdb and of the schema it carries")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { writeHelp(cmd) })
	root.SetFlagErrorFunc(flagError)

	// The commands: one line each.
	root.AddCommand(newMigrateCmd(e))
	root.AddCommand(newStatusCmd(e))
	root.AddCommand(newUsersCmd(e))
	root.AddCommand(newInvitesCmd(e))
	root.AddCommand(newAdminCmd(e))
	root.AddCommand(newKeysCmd(e))
	root.AddCommand(newRoleCmd(e))
	root.AddCommand(newSettingsCmd(e))
	root.AddCommand(newTokensCmd(e))
	root.AddCommand(newServeCmd(e))
	addDurability(root, e) // backup, restore, --external-checkpoints

	addHelpAndCompletion(root)
	markRefusals(root)
	return root
}

// newGroup returns a command group: it runs none of its own, shows its
// help when called alone, and refuses an unknown subcommand.
// Set its Example on the command returned.
func newGroup(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: short, Long: long, Args: subcommand, RunE: help, SuggestionsMinimumDistance: 2}
	g.AddCommand(subs...)
	return g
}

// help prints the command's help: what a group (or the root) does when
// called without a subcommand.
func help(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// subcommand is the Args of a group: any argument left over is a subcommand
// cobra did not find.
func subcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %s for %q", quoteWord(args[0]), cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return usageError(msg)
}

// singleDash finds the argument in pflag's error for -name.
var singleDash = regexp.MustCompile(`^unknown shorthand flag: '.' in (-[a-z][a-z-]+)`)

// flagError makes a flag error a usage error, and says that a long flag
// given with one dash (-db, as Go's flag package took it) takes two.
//
// On the root or a group, a flag error after a positional argument is
// reported as that argument being an unknown command, with its
// suggestion: cobra looks a subcommand up before parsing flags, so in
// `orgdb bakup --to x.db` the root parses --to and would report the flag
// rather than the typo'd command.
func flagError(cmd *cobra.Command, err error) error {
	if cmd.HasSubCommands() {
		// The positional arguments pflag read before the flag it refused.
		if args := cmd.Flags().Args(); len(args) > 0 {
			return subcommand(cmd, args)
		}
	}
	// An invalid flag value is not repeated: it may be a pasted secret.
	var inv *pflag.InvalidValueError
	if errors.As(err, &inv) {
		return usageError(fmt.Sprintf("invalid value for --%s: %v", inv.GetFlag().Name, errors.Unwrap(inv)))
	}
	if m := singleDash.FindStringSubmatch(err.Error()); m != nil {
		name, _, _ := strings.Cut(m[1][1:], "=")
		if cmd.Flags().Lookup(name) != nil {
			return usageError(fmt.Sprintf("unknown flag %s: long flags take two dashes (--%s)", m[1], name))
		}
	}
	return usageError(err.Error())
}

// errUsage marks an error in the command line: exit code 2.
var errUsage = errors.New("usage")

// usageError is an error in the command line: exit code 2.
func usageError(msg string) error { return fmt.Errorf("%w: %s", errUsage, msg) }

// refusal is an error returned by a command's RunE that is not a usage
// error: exit code 1. Every other error (cobra's, from parsing flags and
// arguments) is a usage error.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// markRefusals wraps the RunE of c and its subcommands so that their
// errors are refusals unless they are usage errors.
func markRefusals(c *cobra.Command) {
	if runE := c.RunE; runE != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := runE(cmd, args)
			if err == nil || errors.Is(err, errUsage) {
				return err
			}
			return refusal{err}
		}
	}
	for _, sub := range c.Commands() {
		markRefusals(sub)
	}
}

// run runs the CLI with args and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if cmd == nil {
		cmd = root
	}
	var r refusal
	if errors.As(err, &r) {
		fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), oneLine(r.err))
		return 1
	}
	msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
	fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), oneLine(errors.New(msg)))
	fmt.Fprintf(stderr, "usage: %s (see %s --help)\n", usageLine(cmd), cmd.CommandPath())
	return 2
}

// open opens the database and applies pending migrations: for the
// commands that write. A missing file is refused as a read refuses it
// (only migrate and restore --create create one), so a typo'd --db or an
// unset $ORGDB_DB never leaves a new empty database behind. The store's
// warnings (files not private) go to stderr, one line each.
func (e *env) open(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	if _, err := os.Stat(e.dbPath); errors.Is(err, fs.ErrNotExist) {
		return nil, dbfile.NoDatabase(e.dbPath)
	}
	extra, err := e.storeOptions()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, e.dbPath, append(append(opts, e.warnings()), extra...)...)
}

// where is the database's absolute path, as a command that writes names
// it in its result line: a relative --db or $ORGDB_DB (or the default,
// ./data/orgdb.db) depends on the directory the command ran in.
func (e *env) where() string {
	if abs, err := filepath.Abs(e.dbPath); err == nil {
		return abs
	}
	return e.dbPath
}

// openRead opens the database read-only: a command that only reads never
// creates, migrates or changes a file, so a typo'd --db is an error that
// names the path rather than a new empty database. A command is one-shot,
// so a read-only file at rest can be read too (store.ReadOnlyAtRest).
func (e *env) openRead(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	return store.Open(ctx, e.dbPath, append(opts, store.ReadOnlyAtRest(), e.warnings())...)
}

// oneLine is err's text on one line, every other character that is not
// printable escaped (see escapeLine): an error may carry a value from the
// database.
func oneLine(err error) string {
	return escapeLine(strings.Join(strings.Fields(err.Error()), " "))
}
