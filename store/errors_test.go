package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Each database error, produced for real, maps to its error type and
// HTTP status.
func TestTranslate(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	q := db.New(st.DB()) // raw statements, to produce each database error
	if _, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "ada@acme.test", Role: orgdb.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	exp := orgdb.NewTime(time.Now().Add(time.Hour))
	tests := []struct {
		name   string
		run    func() error
		code   orgdb.Code
		status int
		msg    string
	}{
		{"no rows", func() error { _, err := q.GetUser(ctx, "nobody"); return err }, orgdb.CodeNotFound, 404, "user not found"},
		{"unique", func() error {
			_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u2", Email: "ada@acme.test", Role: orgdb.RoleMember})
			return err
		}, orgdb.CodeConflict, 409, "user already exists"},
		{"primary key", func() error {
			_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "other@acme.test", Role: orgdb.RoleMember})
			return err
		}, orgdb.CodeConflict, 409, "user already exists"},
		{"foreign key on insert", func() error {
			_, err := q.UpsertInvite(ctx, db.UpsertInviteParams{ID: "i1", Email: "b@acme.test", Role: orgdb.RoleMember, InvitedBy: "ghost", ExpiresAt: exp, CreatedAt: st.Now()})
			return err
		}, orgdb.CodeConflict, 409, "referenced row"},
		{"trigger", func() error {
			_, err := st.DB().Exec(`UPDATE users SET role = 'owner'`)
			return err
		}, orgdb.CodeValidation, 400, "invalid role"},
		{"not null", func() error {
			_, err := st.DB().Exec(`INSERT INTO users (id) VALUES ('u3')`)
			return err
		}, orgdb.CodeValidation, 400, "required"},
		{"check", func() error {
			_, err := st.DB().Exec(`UPDATE org_settings SET domain_gating_enabled = 5`)
			return err
		}, orgdb.CodeValidation, 400, "out of range"},
		{"typed value refused before SQL", func() error {
			_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u4", Email: "x@acme.test", Role: "owner"})
			return err
		}, orgdb.CodeValidation, 400, `invalid role "owner"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.run()
			if raw == nil {
				t.Fatal("no error")
			}
			err := store.Translate(raw, "user")
			var e *orgdb.Error
			if !errors.As(err, &e) || e.Code != tt.code || orgdb.HTTPStatus(err) != tt.status || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Translate(%v) = %v (%T), want %s %d containing %q", raw, err, err, tt.code, tt.status, tt.msg)
			}
			if !errors.Is(err, raw) {
				t.Errorf("the database error is lost from the chain of %v", err)
			}
		})
	}
	if store.Translate(nil, "x") != nil {
		t.Error("Translate(nil) != nil")
	}
	other := errors.New("disk on fire")
	if err := store.Translate(other, "user"); !errors.Is(err, other) || !errors.Is(err, orgdb.ErrInternal) || err.Error() != "user: disk on fire" {
		t.Errorf("Translate(other) = %v", err)
	}
	if _, ok := store.Translate(other, "user").(*orgdb.Error); !ok {
		t.Error("Translate(other) is not an *orgdb.Error")
	}
	forbidden := orgdb.Forbidden("Admin access required").WithReason("admin_required")
	if err := store.Translate(forbidden, "user"); err != forbidden {
		t.Errorf("Translate re-wrapped an orgdb error: %v", err)
	}
	// One deeper in the chain keeps its code, reason and public message;
	// the operator reads the whole text.
	wrapped := fmt.Errorf("wrapped: %w", forbidden)
	err := store.Translate(wrapped, "user")
	var e *orgdb.Error
	if !errors.As(err, &e) || err.(*orgdb.Error) != e || e.Code != orgdb.CodeForbidden || e.Reason != "admin_required" ||
		e.Message != "Admin access required" || e.Error() != "wrapped: Admin access required" || !errors.Is(err, wrapped) {
		t.Errorf("Translate(wrapped) = %#v", err)
	}
	// A typed value refused before SQL: database/sql's text stays out of
	// the public message.
	_, raw := q.InsertUser(ctx, db.InsertUserParams{ID: "u5", Email: "y@acme.test", Role: "owner"})
	e = nil
	if !errors.As(store.Translate(raw, "user"), &e) || strings.Contains(e.PublicMessage(), "sql") || !strings.Contains(e.Error(), "sql: converting argument") {
		t.Errorf("Translate(%v): public %q, operator %q", raw, e.PublicMessage(), e.Error())
	}
}

// The JSON of every INTERNAL_ERROR, produced for real, is the fixed
// message: no path, no driver text, no command. The operator still reads
// the detail in Error(). Open's refusals keep the path out of the public
// message too.
func TestErrorJSONHasNoInternals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	closed, err := store.Open(ctx, dbtest.Path(t))
	must(t, err)
	must(t, closed.Close())
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	must(t, err)
	closeStore(t, st)
	admin := signup(t, st, "ada@acme.test")
	ro, err := store.Open(ctx, path, store.ReadOnly())
	must(t, err)
	closeStore(t, ro)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	internal := map[string]struct {
		err    error
		detail string // in Error(), for the operator
	}{
		"missing directory": {second(store.Open(ctx, filepath.Join(dir, "missing", "orgdb.db"))), "mkdir -m 700"},
		"closed store":      {second(closed.GetUser(ctx, "u1")), "closed"},
		"read-only write":   {second(ro.UpdateOrgSettings(ctx, store.ByUser(admin.ID), store.OrgSettingsPatch{Name: ptr("x")})), "readonly"},
		"cancelled":         {second(st.UpdateOrgSettings(cancelled, store.ByUser(admin.ID), store.OrgSettingsPatch{Name: ptr("x")})), "context canceled"},
		"plain error in Tx": {st.Tx(ctx, operator, store.OperatorOnly, func(*db.Queries) error { return fmt.Errorf("open %s: no space left", path) }), path},
	}
	for name, c := range internal {
		var e *orgdb.Error
		if !errors.As(c.err, &e) || e.Code != orgdb.CodeInternal {
			t.Errorf("%s: %v (%T), want an INTERNAL_ERROR", name, c.err, c.err)
			continue
		}
		b, err := json.Marshal(e)
		must(t, err)
		if string(b) != `{"error":"internal error","code":"INTERNAL_ERROR"}` {
			t.Errorf("%s: JSON %s", name, b)
		}
		if !strings.Contains(e.Error(), c.detail) {
			t.Errorf("%s: the operator's message %q lacks %q", name, e.Error(), c.detail)
		}
	}

	foreign, _ := dbtest.ForeignDB(t)
	for name, err := range map[string]error{
		"no database": second(store.Open(ctx, filepath.Join(dir, "none.db"), store.ReadOnly())),
		"not orgdb":   second(store.Open(ctx, foreign)),
		"bad path":    second(store.Open(ctx, "file:"+path)),
	} {
		var e *orgdb.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(e)
		must(t, err)
		if strings.Contains(string(b), "/") || strings.Contains(string(b), "orgdb migrate") {
			t.Errorf("%s: JSON %s names a path or a command", name, b)
		}
		if !strings.Contains(e.Error(), "/") {
			t.Errorf("%s: the operator's message %q names no path", name, e.Error())
		}
	}
}
