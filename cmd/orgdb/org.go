package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

func cmdUsersAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("users add")
	name := fs.String("name", "", "the user's display name")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	in := store.NewUser{Email: pos[0]}
	if *name != "" {
		in.Name = name
	}
	u, err := st.CreateUser(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s as %s (id %s)\n", u.Email, u.Role, u.ID)
	return nil
}

func cmdUsersList(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("users list"), args, 0); err != nil {
		return err
	}
	st, err := e.openRead(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tCREATED (UTC)\tID")
	err = eachUser(ctx, st, func(u db.User) bool {
		name := "-"
		if u.Name != nil {
			name = *u.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, name, when(u.CreatedAt), u.ID)
		return true
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// eachUser calls fn for every user, oldest first, a page at a time, until
// fn returns false.
func eachUser(ctx context.Context, st *store.Store, fn func(db.User) bool) error {
	var page store.ListUsersOptions
	for {
		users, err := st.ListUsers(ctx, page)
		if err != nil {
			return err
		}
		for _, u := range users {
			if !fn(u) {
				return nil
			}
		}
		if len(users) < store.DefaultUserPage {
			return nil
		}
		last := users[len(users)-1]
		page = store.ListUsersOptions{AfterCreatedAt: last.CreatedAt, AfterID: last.ID}
	}
}

func cmdUsersSetRole(ctx context.Context, e *env, args []string) error {
	pos, err := parse(e.flags("users set-role"), args, 2)
	if err != nil {
		return err
	}
	role, err := orgdb.ParseUserRole(pos[1])
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.GetUserByEmail(ctx, pos[0])
	if err != nil {
		return err
	}
	if u, err = st.UpdateUserRole(ctx, u.ID, role); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is now %s\n", u.Email, u.Role)
	return nil
}

func cmdInvitesCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("invites create")
	role := fs.String("role", string(orgdb.RoleMember), "the invitee's role: admin or member")
	by := fs.String("by", "", "email of the inviting admin (default: the first admin)")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	r, err := orgdb.ParseUserRole(*role)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	inviter, err := inviterID(ctx, st, *by)
	if err != nil {
		return err
	}
	inv, err := st.CreateInvite(ctx, store.NewInvite{Email: pos[0], Role: r, InvitedBy: inviter})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "invited %s as %s until %s (id %s)\n", inv.Email, inv.Role, when(inv.ExpiresAt), inv.ID)
	return nil
}

// inviterID is the id of the admin with email by, or of the first admin.
func inviterID(ctx context.Context, st *store.Store, by string) (string, error) {
	if by != "" {
		u, err := st.GetUserByEmail(ctx, by)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	}
	var admin string
	err := eachUser(ctx, st, func(u db.User) bool {
		if u.Role == orgdb.RoleAdmin {
			admin = u.ID
		}
		return admin == ""
	})
	if err != nil || admin != "" {
		return admin, err
	}
	return "", fmt.Errorf("no admin to invite on behalf of: add a user first (orgdb users add EMAIL) or pass --by")
}

func cmdInvitesList(ctx context.Context, e *env, args []string) error {
	if _, err := parse(e.flags("invites list"), args, 0); err != nil {
		return err
	}
	st, err := e.openRead(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tEXPIRES (UTC)\tCREATED (UTC)\tID")
	var page store.ListInvitesOptions
	for {
		invs, err := st.ListInvites(ctx, page)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inv.Email, inv.Role, inv.Status, when(inv.ExpiresAt), when(inv.CreatedAt), inv.ID)
		}
		if len(invs) < store.DefaultInvitePage {
			return tw.Flush()
		}
		last := invs[len(invs)-1]
		page = store.ListInvitesOptions{BeforeCreatedAt: last.CreatedAt, BeforeID: last.ID}
	}
}

func cmdAdminBootstrap(ctx context.Context, e *env, args []string) error {
	pos, err := parse(e.flags("admin bootstrap"), args, 1)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	promoted, err := st.BootstrapAdmin(ctx, pos[0])
	if err != nil {
		return err
	}
	if promoted {
		fmt.Fprintf(e.stdout, "%s is now admin\n", pos[0])
	} else {
		fmt.Fprintln(e.stdout, "the organization already has an admin; nothing changed")
	}
	return nil
}

func when(t orgdb.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
