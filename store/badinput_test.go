package store_test

import (
	"errors"
	"strings"
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
	inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "carol@acme.test"})
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
		"UpdateUserRole unknown role": func() error { _, err := st.UpdateUserRole(ctx, asAdmin(t, st), member.ID, "owner"); return err },
		"UpdateUserRole role in caps": func() error { _, err := st.UpdateUserRole(ctx, asAdmin(t, st), member.ID, "ADMIN"); return err },
		"UpdateUserRole empty id":     func() error { _, err := st.UpdateUserRole(ctx, asAdmin(t, st), "", orgdb.RoleAdmin); return err },
		"UpdateUserRole SQL in role":  func() error { _, err := st.UpdateUserRole(ctx, asAdmin(t, st), member.ID, sqlBomb); return err },
		"DeleteUser empty target":     func() error { return st.DeleteUser(ctx, store.ByUser(admin.ID), "", store.DeleteUserOptions{}) },
		"DeleteUser empty actor":      func() error { return st.DeleteUser(ctx, store.ByUser(" "), member.ID, store.DeleteUserOptions{}) },
		"CreateInvite malformed email": func() error {
			_, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "dan@"})
			return err
		},
		"CreateInvite SQL in email": func() error {
			_, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: sqlBomb})
			return err
		},
		"CreateInvite unknown role": func() error {
			_, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "dan@acme.test", Role: "superuser"})
			return err
		},
		"CreateInvite empty inviter": func() error {
			_, err := st.CreateInvite(ctx, store.ByUser(""), store.NewInvite{Email: "dan@acme.test"})
			return err
		},
		"AcceptInvite empty id":          func() error { _, err := st.AcceptInvite(ctx, operator, ""); return err },
		"DeleteInvite empty id":          func() error { return st.DeleteInvite(ctx, asAdmin(t, st), "") },
		"BootstrapAdmin malformed email": func() error { _, err := st.BootstrapAdmin(ctx, operator, sqlBomb); return err },
		"UpdateOrgSettings SQL in domain": func() error {
			_, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{AllowedEmailDomain: ptr(sqlBomb)})
			return err
		},
		"UpdateOrgSettings bad allowlist": func() error {
			_, err := st.UpdateOrgSettings(ctx, asAdmin(t, st), store.OrgSettingsPatch{AllowedEmails: ptr(orgdb.EmailList{sqlBomb})})
			return err
		},
		"CreateOrgIntegration empty actor": func() error {
			_, err := st.CreateOrgIntegration(ctx, store.ByUser(""), store.NewOrgIntegration{Service: "x"})
			return err
		},
		"CheckSignup malformed email": func() error { return st.CheckSignup(ctx, sqlBomb) },
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

// A name with a control character (a line break, ESC, DEL, a C1 control),
// a bidirectional override or bytes that are not UTF-8 is refused: it
// would print a fake line or drive the terminal that shows it. The error
// says what and where, never the value, and nothing changes.
func TestNamesRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin := store.ByUser(signup(t, st, "ada@acme.test").ID)
	bad := map[string]string{
		"line break": "Eve\nroot@acme.test  admin",
		"CR":         "Eve\rMallory",
		"tab":        "Eve\tX",
		"ESC":        "Eve\x1b[2J",
		"DEL":        "Eve\x7f",
		"C1 CSI":     "Eve\u009b31m",
		"NUL":        "Eve\x00",
		"RLO":        "Eve\u202egnp.exe",
		"isolate":    "Eve\u2066x",
		"not UTF-8":  "Eve\xff",
	}
	before := dbtest.Snapshot(t, st.DB())
	for what, v := range bad {
		for op, run := range map[string]func() error{
			"CreateUser name": func() error {
				return second(st.CreateUser(ctx, store.NewUser{Email: "eve@acme.test", Name: &v}))
			},
			"CreateUser GitHub username": func() error {
				return second(st.CreateUser(ctx, store.NewUser{Email: "eve@acme.test", GithubUsername: &v}))
			},
			"UpdateOrgSettings name": func() error {
				return second(st.UpdateOrgSettings(ctx, admin, store.OrgSettingsPatch{Name: &v}))
			},
			"CreateOrgIntegration service": func() error {
				return second(st.CreateOrgIntegration(ctx, admin, store.NewOrgIntegration{Service: v}))
			},
		} {
			err := run()
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != orgdb.CodeValidation || e.Details["field"] == nil {
				t.Errorf("%s with %s: %v, want a VALIDATION_ERROR naming the field", op, what, err)
				continue
			}
			if strings.Contains(e.Error(), "Eve") || !strings.Contains(e.Error(), "character") {
				t.Errorf("%s with %s: %q repeats the value or does not say where", op, what, e.Error())
			}
		}
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("a refused name changed the database")
	}
	// Printable text is fine, in any script, emoji sequences included.
	for _, ok := range []string{"Ada Lovelace", "Zoë Ñandú", "李小龙", "👩‍👩‍👧", "O'Brien-Smith"} {
		if _, err := st.UpdateOrgSettings(ctx, admin, store.OrgSettingsPatch{Name: &ok}); err != nil {
			t.Errorf("name %q refused: %v", ok, err)
		}
	}
}
