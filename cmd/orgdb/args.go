package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
)

// positional returns an Args validator that wants exactly the named
// arguments and names the missing ones.
func positional(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usageError("missing " + strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			// The values are not repeated: one might be a secret.
			got := fmt.Sprintf("got %d arguments", len(args))
			if len(args) == 1 {
				got = "got 1 argument"
			}
			if len(names) == 0 {
				return usageError(got + ", want no arguments")
			}
			return usageError(got + ", want " + strings.Join(names, " "))
		}
		return nil
	}
}

// noArgs is the Args of a command that takes no positional argument.
func noArgs(cmd *cobra.Command, args []string) error { return positional()(cmd, args) }

// pathValue is a flag holding a file path, never empty.
type pathValue struct{ p *string }

func (v pathValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v pathValue) Set(s string) error {
	if s == "" {
		return errors.New("needs a file path")
	}
	*v.p = s
	return nil
}

// Type is "string", for the help and completion.
func (v pathValue) Type() string { return "string" }

// enum is a fixed set of values with its parser, such as the roles
// (orgdb.ParseUserRole) or the providers (orgdb.ParseProvider), and the
// name of the argument that holds one ("ROLE").
type enum[T ~string] struct {
	name   string
	values []T
	parse  func(string) (T, error)
}

// refusal says what the argument must be, without repeating what was
// given: a key pasted where the provider goes must not be echoed.
func (en enum[T]) refusal() error {
	return fmt.Errorf("%s must be one of %s", en.name, strings.Join(en.names(), ", "))
}

// names returns the values as strings, for completion.
func (en enum[T]) names() []string {
	out := make([]string, len(en.values))
	for i, v := range en.values {
		out[i] = string(v)
	}
	return out
}

// arg returns an Args check that positional argument i, when given, is
// one of the values: another is a usage error.
func (en enum[T]) arg(i int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if i < len(args) {
			if _, err := en.parse(args[i]); err != nil {
				return usageError(en.refusal().Error())
			}
		}
		return nil
	}
}

// complete completes positional argument i with the values.
func (en enum[T]) complete(i int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) != i {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return en.names(), cobra.ShellCompDirectiveNoFileComp
	}
}

// flag defines a flag on cmd holding one of the values, def by default;
// another value is a usage error.
func (en enum[T]) flag(cmd *cobra.Command, p *T, name string, def T, usage string) {
	*p = def
	cmd.Flags().Var(enumValue[T]{p, en}, name, usage)
	if err := cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(en.names(), cobra.ShellCompDirectiveNoFileComp)); err != nil {
		panic(err) // the flag is defined just above
	}
}

// enumValue is a pflag.Value of an enum.
type enumValue[T ~string] struct {
	p  *T
	en enum[T]
}

func (v enumValue[T]) String() string {
	if v.p == nil {
		return ""
	}
	return string(*v.p)
}

func (v enumValue[T]) Set(s string) error {
	t, err := v.en.parse(s)
	if err != nil {
		return v.en.refusal()
	}
	*v.p = t
	return nil
}

// Type is "string", so that the help quotes the default like a string's.
func (v enumValue[T]) Type() string { return "string" }

// jsonFlag adds --json to a list command.
func jsonFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "json", false, "print a JSON array of the objects the service serves (camelCase, never a secret) instead of the table")
}

// printJSON prints v, a slice, as an indented JSON array: [] when empty.
func printJSON[T any](w io.Writer, v []T) error {
	if v == nil {
		v = []T{}
	}
	return printJSONValue(w, v)
}

// printJSONValue prints v as indented JSON, every character that is not
// printable escaped.
func printJSONValue(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", escapeJSON(b))
	return err
}

// roles are the user roles: admin, member.
func roles() enum[orgdb.UserRole] {
	return enum[orgdb.UserRole]{"ROLE", orgdb.UserRoles(), orgdb.ParseUserRole}
}

// providers are the LLM providers: anthropic, openai, google.
func providers() enum[orgdb.Provider] {
	return enum[orgdb.Provider]{"PROVIDER", orgdb.Providers(), orgdb.ParseProvider}
}
