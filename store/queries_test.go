package store_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
)

// TestEveryQueryRuns calls every generated query against a migrated
// database and checks its result. A query added to queries/ without a case
// here fails the test.
func TestEveryQueryRuns(t *testing.T) {
	st := dbtest.New(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	q := st.Queries

	admin, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "ada@acme.test", Role: orgdb.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	// Raw SQL for the rows no query writes yet.
	if _, err := st.DB().Exec(`
INSERT INTO org_api_keys (id, provider, encrypted_key, set_by) VALUES ('k1', 'openai', 'sealed', 'u1');
INSERT INTO integrations (id, user_id, service, scope) VALUES ('i1', 'u1', 'github', 'user'), ('i2', 'u1', 'slack', 'org');`); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		run  func(t *testing.T)
	}{ // in order: a case may read what an earlier one wrote
		{"InsertUser", func(t *testing.T) {
			if admin.ID != "u1" || admin.Role != orgdb.RoleAdmin || admin.CreatedAt.IsZero() {
				t.Errorf("InsertUser returned %+v", admin)
			}
		}},
		{"GetUser", func(t *testing.T) {
			u, err := q.GetUser(ctx, "u1")
			if err != nil || u.Email != "ada@acme.test" {
				t.Errorf("GetUser = %+v, %v", u, err)
			}
		}},
		{"ListUsers", func(t *testing.T) {
			us, err := q.ListUsers(ctx)
			if err != nil || len(us) != 1 || us[0].ID != "u1" {
				t.Errorf("ListUsers = %+v, %v", us, err)
			}
		}},
		{"CountUsers", func(t *testing.T) {
			if n, err := q.CountUsers(ctx); err != nil || n != 1 {
				t.Errorf("CountUsers = %d, %v", n, err)
			}
		}},
		{"GetOrgSettings", func(t *testing.T) {
			s, err := q.GetOrgSettings(ctx)
			if err != nil || s.Name != "My Organization" || s.DomainGatingEnabled || len(s.AllowedEmails) != 0 {
				t.Errorf("GetOrgSettings = %+v, %v", s, err)
			}
		}},
		{"InsertInvite", func(t *testing.T) {
			inv, err := q.InsertInvite(ctx, db.InsertInviteParams{ID: "inv1", Email: "bob@acme.test", Role: orgdb.RoleMember,
				InvitedBy: "u1", ExpiresAt: orgdb.NewTime(now.Add(time.Hour))})
			if err != nil || inv.AcceptedAt != nil || !inv.ExpiresAt.Equal(now.Add(time.Hour)) {
				t.Errorf("InsertInvite = %+v, %v", inv, err)
			}
		}},
		{"GetInviteByEmail", func(t *testing.T) {
			inv, err := q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: " BOB@acme.test ", Now: orgdb.NewTime(now)})
			if err != nil || inv.ID != "inv1" {
				t.Errorf("GetInviteByEmail = %+v, %v", inv, err)
			}
		}},
		{"ListInvites", func(t *testing.T) {
			invs, err := q.ListInvites(ctx)
			if err != nil || len(invs) != 1 {
				t.Errorf("ListInvites = %+v, %v", invs, err)
			}
		}},
		{"ListOrgAPIKeys", func(t *testing.T) {
			keys, err := q.ListOrgAPIKeys(ctx)
			if err != nil || len(keys) != 1 || keys[0].Provider != orgdb.ProviderOpenAI {
				t.Errorf("ListOrgAPIKeys = %+v, %v", keys, err)
			}
		}},
		{"ListIntegrationsForUser", func(t *testing.T) {
			its, err := q.ListIntegrationsForUser(ctx, "u1")
			if err != nil || len(its) != 2 {
				t.Errorf("ListIntegrationsForUser = %+v, %v", its, err)
			}
		}},
	}
	var tested []string
	for _, c := range cases {
		t.Run(c.name, c.run)
		tested = append(tested, c.name)
	}

	var generated []string
	typ := reflect.TypeFor[*db.Queries]()
	for i := range typ.NumMethod() {
		if m := typ.Method(i).Name; m != "WithTx" {
			generated = append(generated, m)
		}
	}
	slices.Sort(tested)
	if !slices.Equal(generated, tested) {
		t.Errorf("generated queries %v\ntested queries    %v\nadd a case for every query", generated, tested)
	}
}
