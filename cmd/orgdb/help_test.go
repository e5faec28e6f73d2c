package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command's help teaches: its summary, the usage line with its
// arguments, a description, examples, and each default once; orgdb help X
// prints the same as orgdb X --help.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	root := newRoot(&env{getenv: func(string) string { return "" }})
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden {
			return
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		t.Run(strings.Join(append([]string{"orgdb"}, path...), " "), func(t *testing.T) {
			t.Parallel()
			code, out, errs := cli(t, nil, append(path, "--help")...)
			if code != 0 || errs != "" {
				t.Fatalf("--help: exit %d, stderr %q", code, errs)
			}
			for _, want := range []string{cmd.Short + "\n", "\nUsage:\n  " + usageLine(cmd) + "\n", strings.TrimSpace(cmd.Long), "\nExamples:\n" + cmd.Example} {
				if strings.TrimSpace(want) == "" || !strings.Contains(out, want) {
					t.Errorf("help lacks %q:\n%s", want, out)
				}
			}
			noGoIdentifiers(t, out)
			// A summary fits the command list: one line, at most 100 characters.
			if len(cmd.Short) > 100 || strings.Contains(cmd.Short, "\n") || cmd.Short == "" || cmd.Example == "" || cmd.Long == "" {
				t.Errorf("want a one-line summary (at most 100 characters), a description and an example: %q", cmd.Short)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.Count(line, "(default") > 1 {
					t.Errorf("a default shown twice: %q", line)
				}
			}
			if cmd.Name() != "help" {
				code, viaHelp, errs := cli(t, nil, append([]string{"help"}, path...)...)
				if code != 0 || errs != "" || viaHelp != out {
					t.Errorf("orgdb help %s differs from --help (exit %d, stderr %q):\n%s", strings.Join(path, " "), code, errs, viaHelp)
				}
			}
		})
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// The shell completion (cobra's hidden __complete, which the scripts call)
// offers the roles and providers where a command takes one.
func TestCompletionOffersEnums(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "set-role", "bob@acme.test", ""}, "admin\nmember\n"},
		{[]string{"invites", "create", "x@acme.test", "--role", ""}, "admin\nmember\n"},
		{[]string{"keys", "set", ""}, "anthropic\nopenai\ngoogle\n"},
		{[]string{"keys", "delete", "o"}, "anthropic\nopenai\ngoogle\n"}, // the shell filters by prefix
		{[]string{"help", "keys", ""}, "\nset\tSeal and store"},
	} {
		code, out, _ := cli(t, nil, append([]string{"__complete"}, c.args...)...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("orgdb __complete %s: exit %d, %q; want it to contain %q", strings.Join(c.args, " "), code, out, c.want)
		}
	}
}
