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
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// Open a database file (migrating it) and read from it.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "orgdb-example")
	check(err)
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "orgdb.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { check(st.Close()) }()

	settings, err := st.GetOrgSettings(ctx)
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
	dir, err := os.MkdirTemp("", "orgdb-example")
	check(err)
	st, err := store.Open(context.Background(), filepath.Join(dir, "orgdb.db"))
	check(err)
	return st, func() { check(st.Close()); check(os.RemoveAll(dir)) }
}

// check stops the example on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// value stops the example on an error, else returns v.
func value[T any](v T, err error) T {
	check(err)
	return v
}

// A read of a missing row is NOT_FOUND, an *orgdb.Error the service maps
// to HTTP 404.
func ExampleStore_GetUser() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	_, err := st.GetUser(ctx, "no-such-id")
	var e *orgdb.Error
	fmt.Println(errors.Is(err, orgdb.ErrNotFound), errors.As(err, &e), orgdb.HTTPStatus(err), err)
	// Output:
	// true true 404 user not found
}

// Tx runs a read-check-write sequence the store has no method for, in one
// IMMEDIATE transaction: what it reads stays true until it commits. The
// queries inside are the raw generated ones: no policy applies to them.
func ExampleStore_Tx() {
	st, done := openExample()
	defer done()
	ctx := context.Background()
	ada := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	inv := value(st.CreateInvite(ctx, store.NewInvite{Email: "bob@acme.com", InvitedBy: ada.ID}))

	// Withdraw an invite, but only while nobody has accepted it.
	withdraw := func(id string) error {
		return st.Tx(ctx, func(q *db.Queries) error {
			inv, err := q.GetInvite(ctx, id)
			if err != nil {
				return store.Translate(err, "invite")
			}
			if inv.AcceptedAt != nil {
				return orgdb.Conflict("invite already accepted; nothing withdrawn")
			}
			_, err = q.DeleteInvite(ctx, id)
			return err
		})
	}
	fmt.Println(withdraw(inv.ID))
	err := withdraw(inv.ID)
	fmt.Println(errors.Is(err, orgdb.ErrNotFound), err)
	// Output:
	// <nil>
	// true invite not found
}

// ReadTx reads several things from one snapshot: the count and the page
// agree even while other requests sign users up.
func ExampleStore_ReadTx() {
	st, done := openExample()
	defer done()
	ctx := context.Background()
	check(second(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"})))
	check(second(st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"})))

	var admins, users int64
	err := st.ReadTx(ctx, func(q *db.Queries) (err error) {
		if admins, err = q.CountAdmins(ctx); err != nil {
			return err
		}
		users, err = q.CountUsers(ctx)
		return err
	})
	fmt.Println(admins, "of", users, "users are admins;", err)
	// Output:
	// 1 of 2 users are admins; <nil>
}

// Sign-up: the first user becomes admin; roles change only through the
// last-admin guard.
func ExampleStore_CreateUser() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	ada := value(st.CreateUser(ctx, store.NewUser{Email: "Ada@Acme.com"}))
	bob := value(st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"}))
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

	admin := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	inv, err := st.CreateInvite(ctx, store.NewInvite{Email: "Carol@Acme.com", Role: orgdb.RoleAdmin, InvitedBy: admin.ID})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inv.Email, inv.Role, inv.ExpiresAt.Sub(inv.CreatedAt.Time))

	// Carol signs up: she gets the invite's role and the invite is used.
	carol := value(st.CreateUser(ctx, store.NewUser{Email: "carol@acme.com"}))
	_, err = st.AcceptInvite(ctx, inv.ID)
	fmt.Println(carol.Role, errors.Is(err, store.ErrInviteAccepted))

	list := value(st.ListInvites(ctx, store.ListInvitesOptions{}))
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
	s = value(st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{Name: &name})) // the rest stays as it was
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

	ada := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	bob := value(st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"}))
	check(second(st.UpdateUserRole(ctx, bob.ID, orgdb.RoleAdmin)))
	check(second(st.CreateInvite(ctx, store.NewInvite{Email: "carol@acme.com", InvitedBy: bob.ID})))

	fmt.Println(st.DeleteUser(ctx, ada.ID, bob.ID, store.DeleteUserOptions{}))
	fmt.Println(st.DeleteUser(ctx, ada.ID, bob.ID, store.DeleteUserOptions{ReassignToActor: true}))
	fmt.Println(st.DeleteUser(ctx, ada.ID, ada.ID, store.DeleteUserOptions{}))
	// Output:
	// user is still referenced by 1 invite; reassign them to delete the user
	// <nil>
	// you cannot delete yourself
}
