package store_test

import (
	"errors"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Bad input gets a VALIDATION_ERROR and writes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin := signup(t, st, "ada@acme.test")
	member := signup(t, st, "bob@acme.test")
	inv, err := st.CreateInvite(ctx, store.NewInvite{Email: "carol@acme.test", InvitedBy: admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	const sqlBomb = "x'); DROP TABLE users; --"
	ops := map[string]func() error{
		"CreateUser malformed email": func() error { _, err := st.CreateUser(ctx, store.NewUser{Email: "not-an-email"}); return err },
		"CreateUser empty email":     func() error { _, err := st.CreateUser(ctx, store.NewUser{Email: "  "}); return err },
		"CreateUser SQL in email":    func() error { _, err := st.CreateUser(ctx, store.NewUser{Email: sqlBomb}); return err },
		"CreateUser SQL after an address": func() error {
			_, err := st.CreateUser(ctx, store.NewUser{Email: "eve@acme.test' OR '1'='1"})
			return err
		},
		"UpdateUserRole unknown role": func() error { _, err := st.UpdateUserRole(ctx, member.ID, "owner"); return err },
		"UpdateUserRole role in caps": func() error { _, err := st.UpdateUserRole(ctx, member.ID, "ADMIN"); return err },
		"UpdateUserRole empty id":     func() error { _, err := st.UpdateUserRole(ctx, "", orgdb.RoleAdmin); return err },
		"UpdateUserRole SQL in role":  func() error { _, err := st.UpdateUserRole(ctx, member.ID, sqlBomb); return err },
		"DeleteUser empty target":     func() error { return st.DeleteUser(ctx, admin.ID, "", store.DeleteUserOptions{}) },
		"DeleteUser empty actor":      func() error { return st.DeleteUser(ctx, " ", member.ID, store.DeleteUserOptions{}) },
		"CreateInvite malformed email": func() error {
			_, err := st.CreateInvite(ctx, store.NewInvite{Email: "dan@", InvitedBy: admin.ID})
			return err
		},
		"CreateInvite SQL in email": func() error {
			_, err := st.CreateInvite(ctx, store.NewInvite{Email: sqlBomb, InvitedBy: admin.ID})
			return err
		},
		"CreateInvite unknown role": func() error {
			_, err := st.CreateInvite(ctx, store.NewInvite{Email: "dan@acme.test", Role: "superuser", InvitedBy: admin.ID})
			return err
		},
		"CreateInvite empty inviter": func() error {
			_, err := st.CreateInvite(ctx, store.NewInvite{Email: "dan@acme.test", InvitedBy: ""})
			return err
		},
		"AcceptInvite empty id":          func() error { _, err := st.AcceptInvite(ctx, ""); return err },
		"DeleteInvite empty id":          func() error { return st.DeleteInvite(ctx, "") },
		"BootstrapAdmin malformed email": func() error { _, err := st.BootstrapAdmin(ctx, sqlBomb); return err },
		"UpdateOrgSettings SQL in domain": func() error {
			_, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmailDomain: ptr(sqlBomb)})
			return err
		},
		"UpdateOrgSettings bad allowlist": func() error {
			_, err := st.UpdateOrgSettings(ctx, store.OrgSettingsPatch{AllowedEmails: ptr(orgdb.EmailList{sqlBomb})})
			return err
		},
		"CreateOrgIntegration empty actor": func() error {
			_, err := st.CreateOrgIntegration(ctx, "", store.NewOrgIntegration{Service: "x"})
			return err
		},
		"CheckSignup malformed email": func() error { return st.CheckSignup(ctx, sqlBomb, nil) },
	}
	before := dbtest.Snapshot(t, st.DB())
	for name, op := range ops {
		err := op()
		var e *orgdb.Error
		if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.HTTPStatus() != 400 || e.Message == "" {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
	if after := dbtest.Snapshot(t, st.DB()); after != before {
		t.Errorf("bad input changed the database:\n%s\n---\n%s", before, after)
	}
	if _, err := st.GetInvite(ctx, inv.ID); err != nil {
		t.Errorf("invite gone: %v", err)
	}
}
