package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// signup creates a user through CreateUser or fails the test.
func signup(t *testing.T, st *store.Store, email string) db.User {
	t.Helper()
	u, err := st.CreateUser(ctx, store.NewUser{Email: email})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// wantErr fails unless err is an *orgdb.Error of code (and reason, if
// given).
func wantErr(t *testing.T, err error, code orgdb.Code, reason string) {
	t.Helper()
	var e *orgdb.Error
	if !errors.As(err, &e) || e.Code != code || (reason != "" && e.Reason != reason) {
		t.Fatalf("err = %v (%#v), want %s %s", err, err, code, reason)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	name := "Ada"
	first, err := st.CreateUser(ctx, store.NewUser{Email: "  Ada@Acme.test ", Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if first.Role != orgdb.RoleAdmin || first.Email != "ada@acme.test" || *first.Name != "Ada" || len(first.ID) != 26 {
		t.Errorf("first user = %+v", first)
	}
	second := signup(t, st, "bob@acme.test")
	if second.Role != orgdb.RoleMember || second.ID == first.ID {
		t.Errorf("second user = %+v", second)
	}

	before := dbtest.Snapshot(t, st.DB())
	_, err = st.CreateUser(ctx, store.NewUser{Email: "BOB@acme.test"})
	wantErr(t, err, orgdb.CodeConflict, store.ReasonUserExists)
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused sign-up changed the database")
	}
	// A user stored before orgdb normalized emails still blocks a duplicate.
	if _, err := st.DB().Exec(`INSERT INTO users (id, email) VALUES ('legacy', 'Carol@Acme.test')`); err != nil {
		t.Fatal(err)
	}
	before = dbtest.Snapshot(t, st.DB())
	_, err = st.CreateUser(ctx, store.NewUser{Email: "carol@acme.test"})
	wantErr(t, err, orgdb.CodeConflict, store.ReasonUserExists)
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused sign-up changed the database")
	}
}

func TestCreateUserWithInvite(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin := signup(t, st, "ada@acme.test")
	inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "Dan@acme.test", Role: orgdb.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	dan := signup(t, st, "dan@ACME.test")
	if dan.Role != orgdb.RoleAdmin {
		t.Errorf("invited user got role %s, want the invite's admin", dan.Role)
	}
	got, err := st.GetInvite(ctx, inv.ID)
	if err != nil || got.AcceptedAt == nil {
		t.Errorf("invite not accepted by the sign-up: %+v, %v", got, err)
	}

	// An expired invite gives nothing: member, and the invite stays as it is.
	past := dbtest.New(t, store.WithClock(func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }))
	pastAdmin := signup(t, past, "ada@acme.test")
	old, err := past.CreateInvite(ctx, store.ByUser(pastAdmin.ID), store.NewInvite{Email: "eve@acme.test", Role: orgdb.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(ctx, dbtest.File(t, past.DB()))
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, st2)
	// The sign-up policy wants a valid invite: refused, unless the
	// operator bypasses it.
	_, err = st2.CreateUser(ctx, store.NewUser{Email: "eve@acme.test"})
	wantErr(t, err, orgdb.CodeForbidden, access.ReasonInviteRequired)
	eve, err := st2.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: "eve@acme.test"})
	must(t, err)
	if eve.Role != orgdb.RoleMember {
		t.Errorf("expired invite gave role %s", eve.Role)
	}
	if got, err := st2.GetInvite(ctx, old.ID); err != nil || got.AcceptedAt != nil {
		t.Error("expired invite marked accepted")
	}
}

func TestUpdateUserRole(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ada := signup(t, st, "ada@acme.test")
	bob := signup(t, st, "bob@acme.test")

	before := dbtest.Snapshot(t, st.DB())
	_, err := st.UpdateUserRole(ctx, asAdmin(t, st), ada.ID, orgdb.RoleMember)
	wantErr(t, err, orgdb.CodeConflict, store.ReasonLastAdmin)
	if !errors.Is(err, store.ErrLastAdmin) || orgdb.HTTPStatus(err) != 409 {
		t.Errorf("last-admin error = %v", err)
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused demotion changed the database")
	}
	// Setting the role an admin already has is not a demotion.
	if u, err := st.UpdateUserRole(ctx, asAdmin(t, st), ada.ID, orgdb.RoleAdmin); err != nil || u.Role != orgdb.RoleAdmin {
		t.Errorf("admin → admin: %+v, %v", u, err)
	}

	u, err := st.UpdateUserRole(ctx, asAdmin(t, st), bob.ID, orgdb.RoleAdmin)
	if err != nil || u.Role != orgdb.RoleAdmin {
		t.Fatalf("promote: %+v, %v", u, err)
	}
	if u, err = st.UpdateUserRole(ctx, asAdmin(t, st), ada.ID, orgdb.RoleMember); err != nil || u.Role != orgdb.RoleMember {
		t.Fatalf("demote with another admin: %+v, %v", u, err)
	}
	_, err = st.UpdateUserRole(ctx, asAdmin(t, st), bob.ID, orgdb.RoleMember)
	wantErr(t, err, orgdb.CodeConflict, store.ReasonLastAdmin)

	_, err = st.UpdateUserRole(ctx, asAdmin(t, st), "nobody", orgdb.RoleAdmin)
	wantErr(t, err, orgdb.CodeNotFound, "")
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	ada := signup(t, st, "ada@acme.test")
	bob := signup(t, st, "bob@acme.test")
	carol := signup(t, st, "carol@acme.test")
	if _, err := st.UpdateUserRole(ctx, asAdmin(t, st), carol.ID, orgdb.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	before := dbtest.Snapshot(t, st.DB())
	wantErr(t, st.DeleteUser(ctx, store.ByUser(ada.ID), ada.ID, store.DeleteUserOptions{}), orgdb.CodeForbidden, store.ReasonDeleteSelf)
	wantErr(t, st.DeleteUser(ctx, store.ByUser(bob.ID), carol.ID, store.DeleteUserOptions{}), orgdb.CodeForbidden, "admin_required")
	wantErr(t, st.DeleteUser(ctx, store.ByUser("ghost"), bob.ID, store.DeleteUserOptions{}), orgdb.CodeUnauthorized, "")
	wantErr(t, st.DeleteUser(ctx, store.ByUser(ada.ID), "nobody", store.DeleteUserOptions{}), orgdb.CodeNotFound, "")
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused deletes changed the database")
	}

	// Carol sent an invite, set an org API key and owns an org integration.
	if _, err := st.CreateInvite(ctx, store.ByUser(carol.ID), store.NewInvite{Email: "dan@acme.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k1', 'openai', 'v1:00000000:sealed', ?)`, carol.ID); err != nil {
		t.Fatal(err)
	}
	org, err := st.CreateOrgIntegration(ctx, store.ByUser(carol.ID), store.NewOrgIntegration{Service: "github"})
	if err != nil {
		t.Fatal(err)
	}
	addUserIntegration(t, st, "own", carol.ID, "slack")
	before = dbtest.Snapshot(t, st.DB())
	err = st.DeleteUser(ctx, store.ByUser(ada.ID), carol.ID, store.DeleteUserOptions{})
	wantErr(t, err, orgdb.CodeConflict, store.ReasonUserReferenced)
	var e *orgdb.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *orgdb.Error", err)
	}
	if e.Details["invites"] != int64(1) || e.Details["orgApiKeys"] != int64(1) || e.Details["orgIntegrations"] != int64(1) ||
		e.Message != "user is still referenced by 1 invite, 1 org API key, 1 org integration; reassign them to delete the user" {
		t.Errorf("referenced error = %q %v", e.Message, e.Details)
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused delete changed the database")
	}

	if err := st.DeleteUser(ctx, store.ByUser(ada.ID), carol.ID, store.DeleteUserOptions{ReassignToActor: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetUser(ctx, carol.ID); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("carol still there: %v", err)
	}
	must(t, st.ReadTx(ctx, func(q *db.Queries) error {
		refs, err := q.CountUserReferences(ctx, ada.ID)
		if err != nil || refs != (db.CountUserReferencesRow{Invites: 1, OrgAPIKeys: 1, OrgIntegrations: 1}) {
			t.Errorf("references not moved to the actor: %+v, %v", refs, err)
		}
		if it, err := q.GetIntegration(ctx, org.ID); err != nil || it.UserID != ada.ID {
			t.Errorf("org integration = %+v, %v", it, err)
		}
		if _, err := q.GetIntegration(ctx, "own"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("carol's own integration survived: %v", err)
		}
		return nil
	}))
	checkForeignKeys(t, st)

	// A member without references is deleted outright.
	if err := st.DeleteUser(ctx, store.ByUser(ada.ID), bob.ID, store.DeleteUserOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkForeignKeys fails the test if any row references a missing row.
func checkForeignKeys(t *testing.T, st *store.Store) {
	t.Helper()
	if _, rows := dbtest.Rows(t, st.DB(), `PRAGMA foreign_key_check`); len(rows) > 0 {
		t.Errorf("foreign_key_check reports violations: %v", rows)
	}
}

func TestBootstrapAdmin(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	// Members only, as in a database from before roles existed.
	for _, e := range []string{"ada@acme.test", "bob@acme.test"} {
		inTx(t, st, func(q *db.Queries) error {
			_, err := q.InsertUser(ctx, db.InsertUserParams{ID: e, Email: e, Role: orgdb.RoleMember})
			return err
		})
	}
	ok, err := st.BootstrapAdmin(ctx, operator, " BOB@acme.test")
	if err != nil || !ok {
		t.Fatalf("BootstrapAdmin = %v, %v", ok, err)
	}
	if u, err := st.GetUser(ctx, "bob@acme.test"); err != nil || u.Role != orgdb.RoleAdmin {
		t.Errorf("bob = %s", u.Role)
	}
	before := dbtest.Snapshot(t, st.DB())
	if ok, err := st.BootstrapAdmin(ctx, operator, "ada@acme.test"); err != nil || ok {
		t.Errorf("BootstrapAdmin with an admin present = %v, %v", ok, err)
	}
	_, err = st.BootstrapAdmin(ctx, operator, "nobody@acme.test")
	wantErr(t, err, orgdb.CodeNotFound, "")
	_, err = st.BootstrapAdmin(ctx, operator, "not an email")
	wantErr(t, err, orgdb.CodeValidation, "")
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("a refused bootstrap changed the database")
	}
}

// ListUsers pages through every user once, in sign-up order, however the
// pages fall; a bad page size is refused.
func TestListUsersPages(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	var want []string
	for i := range 7 {
		want = append(want, signup(t, st, fmt.Sprintf("u%d@acme.test", i)).ID)
	}
	for _, limit := range []int{1, 2, 3, 7, 8} {
		var got []string
		opts := store.ListUsersOptions{Limit: limit}
		for {
			page, err := st.ListUsers(ctx, opts)
			must(t, err)
			for _, u := range page {
				got = append(got, u.ID)
			}
			if len(page) < limit {
				break
			}
			last := page[len(page)-1]
			opts = store.ListUsersOptions{Limit: limit, AfterCreatedAt: last.CreatedAt, AfterID: last.ID}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %d: %v, want %v", limit, got, want)
		}
	}
	for _, bad := range []int{-1, store.MaxUserPage + 1} {
		_, err := st.ListUsers(ctx, store.ListUsersOptions{Limit: bad})
		wantErr(t, err, orgdb.CodeValidation, "")
	}
}
