package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/store"
)

// Open a database file (migrating it) and run generated queries on it.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "orgdb-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "orgdb.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	settings, err := st.GetOrgSettings(ctx) // the generated gen/db query
	if err != nil {
		log.Fatal(err)
	}
	n, err := st.CountUsers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(settings.Name, settings.DomainGatingEnabled, len(settings.AllowedEmails), n)
	// Output: My Organization false 0 0
}

// openExample opens a fresh database in a temporary directory.
func openExample() (*store.Store, func()) {
	dir, _ := os.MkdirTemp("", "orgdb-example")
	st, err := store.Open(context.Background(), filepath.Join(dir, "orgdb.db"))
	if err != nil {
		log.Fatal(err)
	}
	return st, func() { st.Close(); os.RemoveAll(dir) }
}

// Sign-up: the first user becomes admin; roles change only through the
// last-admin guard.
func ExampleStore_CreateUser() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	ada, _ := st.CreateUser(ctx, store.NewUser{Email: "Ada@Acme.com"})
	bob, _ := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"})
	fmt.Println(ada.Email, ada.Role, "/", bob.Email, bob.Role)

	_, err := st.UpdateUserRole(ctx, ada.ID, orgdb.RoleMember)
	fmt.Println(errors.Is(err, store.ErrLastAdmin), orgdb.HTTPStatus(err), err)

	if err := access.RequireAdmin(bob); err != nil {
		fmt.Println(orgdb.HTTPStatus(err), err)
	}
	// Output:
	// ada@acme.com admin / bob@acme.com member
	// true 409 cannot demote the last admin
	// 403 Admin access required
}

// Invites: one per email, accepted at most once.
func ExampleStore_CreateInvite() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	admin, _ := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"})
	inv, err := st.CreateInvite(ctx, store.NewInvite{Email: "Carol@Acme.com", Role: orgdb.RoleAdmin, InvitedBy: admin.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inv.Email, inv.Role, inv.ExpiresAt.Sub(inv.CreatedAt.Time))

	// Carol signs up: she gets the invite's role and the invite is used.
	carol, _ := st.CreateUser(ctx, store.NewUser{Email: "carol@acme.com"})
	_, err = st.AcceptInvite(ctx, inv.ID)
	fmt.Println(carol.Role, errors.Is(err, store.ErrInviteAccepted))

	list, _ := st.ListInvites(ctx, store.ListInvitesOptions{})
	fmt.Println(list[0].Email, list[0].Status)
	// Output:
	// carol@acme.com admin 168h0m0s
	// admin true
	// carol@acme.com accepted
}

// Org settings take partial updates; the sign-up policy reads them.
func ExampleStore_UpdateOrgSettings() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	domain, on := "acme.com", true
	s, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmailDomain: &domain, DomainGatingEnabled: &on})
	if err != nil {
		log.Fatal(err)
	}
	name := "Acme"
	s, _ = st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{Name: &name}) // the rest stays as it was
	fmt.Println(s.Name, *s.AllowedEmailDomain, s.DomainGatingEnabled)

	fmt.Println(st.CheckSignup(ctx, "dev@acme.com", nil))
	fmt.Println(st.CheckSignup(ctx, "dev@evilacme.com", nil))
	// Output:
	// Acme acme.com true
	// <nil>
	// Sign-up is restricted to addresses at the organization's domain
}

// Deleting a user who sent invites: refused, unless told to reassign.
func ExampleStore_DeleteUser() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	ada, _ := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"})
	bob, _ := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"})
	st.UpdateUserRole(ctx, bob.ID, orgdb.RoleAdmin)
	st.CreateInvite(ctx, store.NewInvite{Email: "carol@acme.com", InvitedBy: bob.ID})

	fmt.Println(st.DeleteUser(ctx, ada.ID, bob.ID, store.DeleteUserOptions{}))
	fmt.Println(st.DeleteUser(ctx, ada.ID, bob.ID, store.DeleteUserOptions{ReassignToActor: true}))
	fmt.Println(st.DeleteUser(ctx, ada.ID, ada.ID, store.DeleteUserOptions{}))
	// Output:
	// user is still referenced by 1 invite; reassign them to delete the user
	// <nil>
	// you cannot delete yourself
}
