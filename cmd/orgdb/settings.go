package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func newSettingsCmd(e *env) *cobra.Command {
	g := newGroup("settings", "Show and change the org settings: name, sign-up domain and allowlist",
		`Show the organization's settings (its name, the sign-up domain and the email
allowlist, and whether each gates sign-up) and change them, as an admin does
on the service's settings page. The sign-up policy (orgdb users add, the
service's sign-up) reads them.`,
		newSettingsShowCmd(e),
		newSettingsSetCmd(e),
	)
	g.Example = `  orgdb settings show
  orgdb settings set --domain acme.test --domain-gating on --by me@acme.test`
	return g
}

func newSettingsShowCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the org settings and who may sign up",
		Long: `Print the organization's name, the sign-up domain and whether domain gating is
on, the email allowlist and whether it gates sign-up, when they last
changed, and what that means for sign-up. With --json, the settings object
as the service serves it (allowlist comma-separated). It only reads the
database.`,
		Example: `  orgdb settings show
  orgdb settings show --json | jq -r .allowedEmailDomain`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := e.openRead(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.GetOrgSettings(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONValue(e.stdout, s)
			}
			invites, err := store.ReadTxV(ctx, st, func(q *db.Queries) (bool, error) { return q.HasInvites(ctx) })
			if err != nil {
				return err
			}
			return printSettings(e.stdout, s, invites)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the settings as the JSON object the service serves (camelCase) instead of the table")
	return cmd
}

// printSettings prints the settings one per line, labelled as set's flags
// are named, and what they mean for sign-up.
func printSettings(w io.Writer, s db.OrgSettings, invitesExist bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", show(s.Name))
	fmt.Fprintf(tw, "domain:\t%s\n", domainText(s.AllowedEmailDomain))
	fmt.Fprintf(tw, "domain gating:\t%s\n", onOffText(s.DomainGatingEnabled))
	fmt.Fprintf(tw, "allowlist:\t%s\n", allowlistText(s.AllowedEmails))
	fmt.Fprintf(tw, "allowlist gating:\t%s\n", onOffText(s.EmailAllowlistEnabled))
	fmt.Fprintf(tw, "updated (UTC):\t%s\n", when(s.UpdatedAt))
	fmt.Fprintf(tw, "sign-up:\t%s\n", signupText(s, invitesExist))
	return tw.Flush()
}

// signupText says who may sign up under s, as access.CheckSignup decides.
func signupText(s db.OrgSettings, invitesExist bool) string {
	domain := domainText(s.AllowedEmailDomain)
	switch {
	case s.DomainGatingEnabled && s.EmailAllowlistEnabled:
		return "only addresses at " + domain + " that are on the allowlist (an invite does not bypass it)"
	case s.DomainGatingEnabled:
		return "only addresses at " + domain + " (an invite does not bypass it)"
	case s.EmailAllowlistEnabled:
		return "only addresses on the allowlist (an invite does not bypass it)"
	case invitesExist:
		return "by invite, or an address the service's $ALLOWED_EMAILS lists if it is set"
	default:
		return "open to any address until the first invite, unless the service sets $ALLOWED_EMAILS"
	}
}

func domainText(d *string) string {
	if d == nil || *d == "" {
		return "none"
	}
	return show(*d)
}

func allowlistText(l orgdb.EmailList) string {
	if len(l) == 0 {
		return "none"
	}
	return show(l.String())
}

func onOffText(b bool) string {
	if b {
		return string(on)
	}
	return string(off)
}

// onOff is the value of a switch flag: on or off.
type onOff string

const (
	on  onOff = "on"
	off onOff = "off"
)

// switches are the values of a gating flag.
func switches() enum[onOff] {
	return enum[onOff]{"the value", []onOff{on, off}, func(s string) (onOff, error) {
		if v := onOff(strings.ToLower(strings.TrimSpace(s))); v == on || v == off {
			return v, nil
		}
		return "", errors.New("want on or off")
	}}
}

// settingsFlags are the flags of settings set, in the order of the output.
var settingsFlags = []string{"name", "domain", "domain-gating", "allowlist", "allowlist-gating"}

func newSettingsSetCmd(e *env) *cobra.Command {
	var (
		name, domain, allowlist      string
		domainGating, allowlistGated onOff
		by                           string
	)
	cmd := &cobra.Command{
		Use:   "set --by ADMIN_EMAIL",
		Short: "Change the org's name, sign-up domain, allowlist or gating, as an admin",
		Long: `Change the settings given, on behalf of the admin --by, and leave the others
as they are; the change is checked as a whole, in one transaction. Domain
gating on needs a domain (only addresses at exactly that domain may sign
up); allowlist gating on needs at least one address (only those may sign
up); with both on, an address must pass both. An invite does not bypass
gating. --domain '' and --allowlist '' clear them. A refused change
changes nothing. orgdb settings show prints the result.`,
		Example: `  orgdb settings set --name "Acme Inc." --by me@acme.test
  orgdb settings set --domain acme.test --domain-gating on --by me@acme.test
  orgdb settings set --allowlist ann@partner.test,bo@partner.test --allowlist-gating on --by me@acme.test
  orgdb settings set --domain-gating off --domain '' --by me@acme.test`,
		Args: cobra.MatchAll(noArgs, func(cmd *cobra.Command, _ []string) error {
			for _, f := range settingsFlags {
				if cmd.Flags().Changed(f) {
					return nil
				}
			}
			return usageError("nothing to change: give at least one of --" + strings.Join(settingsFlags, ", --"))
		}),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			f := cmd.Flags()
			var p store.OrgSettingsPatch
			if f.Changed("name") {
				p.Name = &name
			}
			if f.Changed("domain") {
				p.AllowedEmailDomain = &domain
			}
			if f.Changed("domain-gating") {
				v := domainGating == on
				p.DomainGatingEnabled = &v
			}
			if f.Changed("allowlist") {
				l := orgdb.ParseEmailList(allowlist)
				p.AllowedEmails = &l
			}
			if f.Changed("allowlist-gating") {
				v := allowlistGated == on
				p.EmailAllowlistEnabled = &v
			}
			st, err := e.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			a, admin, err := actor(ctx, st, by)
			if err != nil {
				return err
			}
			before, err := st.GetOrgSettings(ctx)
			if err != nil {
				return err
			}
			after, err := st.UpdateOrgSettings(ctx, a, p)
			if err != nil {
				return settingsRefusal(asAdmin(err, admin, "change the org settings"))
			}
			fmt.Fprintf(e.stdout, "%s: org settings changed by %s\n", show(e.where()), show(admin.Email))
			return printChanges(e.stdout, f.Changed, before, after)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the organization's `name`")
	cmd.Flags().StringVar(&domain, "domain", "", "the email `domain` that domain gating admits, such as acme.test ('' clears it)")
	switches().flag(cmd, &domainGating, "domain-gating", off, "whether only addresses at the domain may sign up: `on|off`")
	cmd.Flags().StringVar(&allowlist, "allowlist", "", "the `emails` that allowlist gating admits, comma-separated; replaces the list ('' clears it)")
	switches().flag(cmd, &allowlistGated, "allowlist-gating", off, "whether only addresses on the allowlist may sign up: `on|off`")
	// The enum flags' defaults are not shown: an absent flag leaves the
	// setting as it is.
	for _, n := range []string{"domain-gating", "allowlist-gating"} {
		cmd.Flags().Lookup(n).DefValue = ""
	}
	byFlag(cmd, &by, "changes the settings")
	return cmd
}

// printChanges prints a line per setting given (changed reports whether
// its flag was): its value now, and what it was.
func printChanges(w io.Writer, changed func(string) bool, before, after db.OrgSettings) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(flag, label, was, now string) {
		if !changed(flag) {
			return
		}
		if was == now {
			fmt.Fprintf(tw, "  %s:\t%s (unchanged)\n", label, now)
			return
		}
		fmt.Fprintf(tw, "  %s:\t%s (was %s)\n", label, now, was)
	}
	line("name", "name", show(before.Name), show(after.Name))
	line("domain", "domain", domainText(before.AllowedEmailDomain), domainText(after.AllowedEmailDomain))
	line("domain-gating", "domain gating", onOffText(before.DomainGatingEnabled), onOffText(after.DomainGatingEnabled))
	line("allowlist", "allowlist", allowlistText(before.AllowedEmails), allowlistText(after.AllowedEmails))
	line("allowlist-gating", "allowlist gating", onOffText(before.EmailAllowlistEnabled), onOffText(after.EmailAllowlistEnabled))
	return tw.Flush()
}

// settingsRefusal says which flag sets the field a refused change is
// missing, and that nothing changed.
func settingsRefusal(err error) error {
	var oe *orgdb.Error
	if !errors.As(err, &oe) || oe.Code != orgdb.CodeValidation {
		return err
	}
	hint := map[string]string{
		"allowedEmailDomain": " (--domain sets it)",
		"allowedEmails":      " (--allowlist sets it)",
	}[fmt.Sprint(oe.Details["field"])]
	return fmt.Errorf("%w%s; nothing changed", err, hint)
}
