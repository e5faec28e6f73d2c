package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/schema"
)

// version is the version of orgdb, set at build time (make build and make
// install do): go build -ldflags "-X main.version=v1.2.3". Without it the
// version comes from the build information of the binary.
var version string

// versionString is what orgdb --version prints: the version of the binary
// and the schema version it carries (its newest embedded migration).
func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && v == "devel" {
					v += " " + s.Value[:min(12, len(s.Value))]
				}
			}
		}
	}
	sv := "schema unknown"
	if ms, err := schema.Load(schema.FS()); err != nil {
		sv = "schema unknown: " + oneLine(err)
	} else if len(ms) > 0 {
		newest := ms[len(ms)-1]
		sv = fmt.Sprintf("schema version %d (%s, %d migrations)", newest.Version, newest.File, len(ms))
	}
	return fmt.Sprintf("orgdb %s, %s, %s", v, sv, runtime.Version())
}

// usageLine is the command's usage line: its path, positional arguments
// and flags.
func usageLine(cmd *cobra.Command) string {
	switch {
	case !cmd.HasParent():
		return cmd.CommandPath() + " [--db FILE] COMMAND [ARGS] [flags]"
	case cmd.HasAvailableSubCommands():
		return cmd.CommandPath() + " COMMAND [flags]"
	}
	// Not cobra's UseLine: it adds [flags] only once the persistent flags
	// are merged, which orgdb help X does not do.
	return cmd.CommandPath() + strings.TrimPrefix(cmd.Use, cmd.Name()) + " [flags]"
}

// writeHelp prints the help of cmd on its stdout: summary, usage line,
// description, commands, flags and examples. orgdb help COMMAND and
// orgdb COMMAND --help both print it.
func writeHelp(cmd *cobra.Command) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", cmd.Short, usageLine(cmd))
	if cmd.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.Long))
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintln(w, "\nCommands:")
		tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		// The root lists every command down to the leaves, with their
		// arguments; a group its own.
		var list func(c *cobra.Command)
		list = func(c *cobra.Command) {
			for _, sub := range c.Commands() {
				switch {
				case !sub.IsAvailableCommand():
				case !cmd.HasParent() && sub.HasAvailableSubCommands() && sub.Name() != "completion":
					list(sub)
				default:
					use := strings.TrimPrefix(sub.CommandPath(), cmd.CommandPath()+" ")
					if args := strings.TrimPrefix(sub.Use, sub.Name()); args != "" {
						use += args
					} else if sub.HasAvailableSubCommands() {
						use += " COMMAND"
					}
					fmt.Fprintf(tw, "  %s\t%s\n", use, sub.Short)
				}
			}
		}
		list(cmd)
		tw.Flush()
	}
	if f := cmd.LocalFlags(); f.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", f.FlagUsages())
	}
	if f := cmd.InheritedFlags(); f.HasAvailableFlags() {
		fmt.Fprintf(w, "\nGlobal flags:\n%s", f.FlagUsages())
	}
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(cmd.Example, "\n"))
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' (or 'orgdb help %sCOMMAND') for a command's help.\n",
			cmd.CommandPath(), strings.TrimPrefix(cmd.CommandPath()+" ", cmd.Root().Name()+" "))
	}
}

// addHelpAndCompletion adds the help command and cobra's completion
// command to root, held to the CLI's rules: an unknown help topic or
// shell is a usage error, and every command has an example.
func addHelpAndCompletion(root *cobra.Command) {
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Show the help of orgdb or of a command",
		Long: `Print the help of COMMAND (a group, or a command within a group): the same
as COMMAND --help. Without COMMAND, the help of orgdb.`,
		Example: `  orgdb help
  orgdb help users
  orgdb help keys set`,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			c, _, err := cmd.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range c.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 {
				msg := "no command " + quoteWords(args)
				if s := target.SuggestionsFor(rest[0]); len(rest) > 0 && len(s) > 0 {
					msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
				}
				return usageError(msg + "; run orgdb help for the list")
			}
			return target.Help()
		},
	})
	root.InitDefaultHelpCmd()

	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Short = "Print the shell completion script for bash, zsh, fish or powershell"
		c.Long = `Print the script that completes orgdb's commands, flags, roles and
providers in your shell. Each shell's help says how to load it for every new
session.`
		c.Example = `  source <(orgdb completion bash)
  orgdb completion fish > ~/.config/fish/completions/orgdb.fish`
		c.Args, c.RunE = subcommand, help
		for _, sh := range c.Commands() {
			sh.Example = map[string]string{
				"bash":       "  source <(orgdb completion bash)",
				"zsh":        "  source <(orgdb completion zsh)",
				"fish":       "  orgdb completion fish | source",
				"powershell": "  orgdb completion powershell | Out-String | Invoke-Expression",
			}[sh.Name()]
		}
	}
}
