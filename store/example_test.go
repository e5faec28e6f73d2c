package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/agentops/orgdb"
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
// caller states who acts and the rule of what it writes; the store checks
// that rule in the transaction, and the queries inside are the raw
// generated ones.
func ExampleStore_Tx() {
	st, done := openExample()
	defer done()
	ctx := context.Background()
	ada := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	bob := value(st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"}))
	inv := value(st.CreateInvite(ctx, store.ByUser(ada.ID), store.NewInvite{Email: "carol@acme.com"}))

	// An admin withdraws an invite, but only while nobody has accepted it.
	withdraw := func(by store.Actor, id string) error {
		return st.Tx(ctx, by, store.AdminOnly, func(q *db.Queries) error {
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
	fmt.Println(withdraw(store.ByUser(bob.ID), inv.ID)) // a member
	fmt.Println(withdraw(store.ByUser(ada.ID), inv.ID))
	err := withdraw(store.ByUser(ada.ID), inv.ID)
	fmt.Println(errors.Is(err, orgdb.ErrNotFound), err)
	// Output:
	// Admin access required
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

	// ReadTxV returns the value instead.
	type counts struct{ admins, users int64 }
	c, err := store.ReadTxV(ctx, st, func(q *db.Queries) (c counts, err error) {
		if c.admins, err = q.CountAdmins(ctx); err != nil {
			return c, err
		}
		c.users, err = q.CountUsers(ctx)
		return c, err
	})
	fmt.Println(c.admins, "of", c.users, "users are admins;", err)
	// Output:
	// 1 of 2 users are admins; <nil>
	// 1 of 2 users are admins; <nil>
}

// Sign-up: the first user becomes admin; every write names who does it;
// roles change only through the last-admin guard.
func ExampleStore_CreateUser() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	ada := value(st.CreateUser(ctx, store.NewUser{Email: "Ada@Acme.com"}))
	bob := value(st.CreateUser(ctx, store.NewUser{Email: "bob@acme.com"}))
	fmt.Println(ada.Email, ada.Role, "/", bob.Email, bob.Role)

	_, err := st.UpdateUserRole(ctx, store.ByUser(ada.ID), ada.ID, orgdb.RoleMember)
	fmt.Println(errors.Is(err, store.ErrLastAdmin), orgdb.HTTPStatus(err), err)

	_, err = st.UpdateUserRole(ctx, store.ByUser(bob.ID), bob.ID, orgdb.RoleAdmin)
	fmt.Println(errors.Is(err, store.ErrAdminRequired), orgdb.HTTPStatus(err), err)
	// Output:
	// ada@acme.com admin / bob@acme.com member
	// true 409 cannot demote the last admin
	// true 403 Admin access required
}

// Sign-up applies the organization's policy in the transaction that
// creates the user; only the operator can create a user without it.
func ExampleStore_CreateUserBypassingPolicy() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	ada := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	domain, on := "acme.com", true
	check(second(st.UpdateOrgSettings(ctx, store.ByUser(ada.ID), store.OrgSettingsPatch{AllowedEmailDomain: &domain, DomainGatingEnabled: &on})))

	_, err := st.CreateUser(ctx, store.NewUser{Email: "eve@evil.test"})
	var e *orgdb.Error
	fmt.Println(errors.As(err, &e), e.Reason, err)

	_, err = st.CreateUserBypassingPolicy(ctx, store.ByUser(ada.ID), store.NewUser{Email: "eve@evil.test"})
	fmt.Println(err)

	eve := value(st.CreateUserBypassingPolicy(ctx, store.Operator("example: a contractor outside the domain"), store.NewUser{Email: "eve@evil.test"}))
	fmt.Println(eve.Email, eve.Role)
	// Output:
	// true email_domain_not_allowed Sign-up is restricted to addresses at the organization's domain
	// Only the operator can do this, not a user of the organization
	// eve@evil.test member
}

// Invites: one per email, accepted at most once.
func ExampleStore_CreateInvite() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	admin := value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"}))
	inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "Carol@Acme.com", Role: orgdb.RoleAdmin})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inv.Email, inv.Role, inv.ExpiresAt.Sub(inv.CreatedAt.Time))

	// Carol signs up: she gets the invite's role and the invite is used.
	carol := value(st.CreateUser(ctx, store.NewUser{Email: "carol@acme.com"}))
	_, err = st.AcceptInvite(ctx, store.Operator("example"), inv.ID)
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

	admin := store.ByUser(value(st.CreateUser(ctx, store.NewUser{Email: "ada@acme.com"})).ID)
	domain, on := "acme.com", true
	s, err := st.UpdateOrgSettings(ctx, admin, store.OrgSettingsPatch{AllowedEmailDomain: &domain, DomainGatingEnabled: &on})
	if err != nil {
		log.Fatal(err)
	}
	name := "Acme"
	s = value(st.UpdateOrgSettings(ctx, admin, store.OrgSettingsPatch{Name: &name})) // the rest stays as it was
	fmt.Println(s.Name, *s.AllowedEmailDomain, s.DomainGatingEnabled)

	fmt.Println(st.CheckSignup(ctx, "dev@acme.com"))
	fmt.Println(st.CheckSignup(ctx, "dev@evilacme.com"))
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
	check(second(st.UpdateUserRole(ctx, store.ByUser(ada.ID), bob.ID, orgdb.RoleAdmin)))
	check(second(st.CreateInvite(ctx, store.ByUser(bob.ID), store.NewInvite{Email: "carol@acme.com"})))

	fmt.Println(st.DeleteUser(ctx, store.ByUser(ada.ID), bob.ID, store.DeleteUserOptions{}))
	fmt.Println(st.DeleteUser(ctx, store.ByUser(ada.ID), bob.ID, store.DeleteUserOptions{ReassignToActor: true}))
	fmt.Println(st.DeleteUser(ctx, store.ByUser(ada.ID), ada.ID, store.DeleteUserOptions{}))
	// Output:
	// user is still referenced by 1 invite; reassign them to delete the user
	// <nil>
	// you cannot delete yourself
}
