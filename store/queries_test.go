package store_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
)

// TestEveryQueryRuns calls every generated query against a migrated
// database and checks its result. A query added to queries/ without a case
// here fails the test, which names it and where it is declared.
func TestEveryQueryRuns(t *testing.T) {
	st := dbtest.New(t)
	now := orgdb.NewTime(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	later := orgdb.NewTime(now.Add(time.Hour))
	// Every statement prepared on the writer, as the store does.
	q, err := db.Prepare(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Error(err)
		}
	})
	must := func(t *testing.T, ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(format, args...)
		}
	}

	// In order: a case may read what an earlier one wrote.
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"InsertUser", func(t *testing.T) {
			u, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "Ada@acme.test", Role: orgdb.RoleAdmin})
			must(t, err == nil && u.ID == "u1" && u.Role == orgdb.RoleAdmin && !u.CreatedAt.IsZero(), "InsertUser = %+v, %v", u, err)
			_, err = q.InsertUser(ctx, db.InsertUserParams{ID: "u2", Email: "bob@acme.test", Role: orgdb.RoleMember})
			must(t, err == nil, "second InsertUser: %v", err)
		}},
		{"GetUser", func(t *testing.T) {
			u, err := q.GetUser(ctx, "u1")
			must(t, err == nil && u.Email == "Ada@acme.test", "GetUser = %+v, %v", u, err)
		}},
		{"GetUserRole", func(t *testing.T) {
			r, err := q.GetUserRole(ctx, "u1")
			must(t, err == nil && r == orgdb.RoleAdmin, "GetUserRole = %s, %v", r, err)
			_, err = q.GetUserRole(ctx, "nobody")
			must(t, errors.Is(err, sql.ErrNoRows), "GetUserRole of nobody: %v", err)
		}},
		{"GetUserByEmail", func(t *testing.T) {
			u, err := q.GetUserByEmail(ctx, " ada@ACME.test")
			must(t, err == nil && u.ID == "u1", "GetUserByEmail = %+v, %v", u, err)
		}},
		{"ListUsers", func(t *testing.T) {
			start := orgdb.NewTime(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
			us, err := q.ListUsers(ctx, db.ListUsersParams{AfterCreatedAt: start, PageSize: 10})
			must(t, err == nil && len(us) == 2, "ListUsers = %+v, %v", us, err)
			rest, err := q.ListUsers(ctx, db.ListUsersParams{AfterCreatedAt: us[0].CreatedAt, AfterID: us[0].ID, PageSize: 10})
			must(t, err == nil && len(rest) == 1 && rest[0].ID == us[1].ID, "ListUsers after the first = %+v, %v", rest, err)
		}},
		{"ListUsersJSON", func(t *testing.T) {
			j, err := q.ListUsersJSON(ctx)
			var us []map[string]any
			must(t, err == nil && json.Unmarshal([]byte(j), &us) == nil && len(us) == 2 && us[0]["id"] == "u1" && us[0]["role"] == "admin" && us[0]["name"] == nil,
				"ListUsersJSON = %s, %v", j, err)
		}},
		{"CountUsers", func(t *testing.T) {
			n, err := q.CountUsers(ctx)
			must(t, err == nil && n == 2, "CountUsers = %d, %v", n, err)
		}},
		{"HasUsers", func(t *testing.T) {
			ok, err := q.HasUsers(ctx)
			must(t, err == nil && ok, "HasUsers = %v, %v", ok, err)
		}},
		{"CountAdmins", func(t *testing.T) {
			n, err := q.CountAdmins(ctx)
			must(t, err == nil && n == 1, "CountAdmins = %d, %v", n, err)
		}},
		{"UpdateUserRole", func(t *testing.T) {
			n, err := q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: orgdb.RoleMember, Now: now, ID: "u1"})
			must(t, err == nil && n == 0, "demoting the last admin: %d rows, %v", n, err)
			n, err = q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: orgdb.RoleAdmin, Now: now, ID: "nobody"})
			must(t, err == nil && n == 0, "no such user: %d rows, %v", n, err)
			n, err = q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: orgdb.RoleAdmin, Now: now, ID: "u2"})
			must(t, err == nil && n == 1, "promoting: %d rows, %v", n, err)
			u, err := q.GetUser(ctx, "u2")
			must(t, err == nil && u.Role == orgdb.RoleAdmin && u.UpdatedAt == now, "promoted: %+v, %v", u, err)
		}},
		{"BootstrapAdmin", func(t *testing.T) {
			n, err := q.BootstrapAdmin(ctx, db.BootstrapAdminParams{Now: now, Email: "bob@acme.test"})
			must(t, err == nil && n == 0, "BootstrapAdmin with admins present: %d rows, %v", n, err)
		}},
		{"GetOrgSettings", func(t *testing.T) {
			s, err := q.GetOrgSettings(ctx)
			must(t, err == nil && s.Name == "My Organization" && !s.DomainGatingEnabled && len(s.AllowedEmails) == 0, "GetOrgSettings = %+v, %v", s, err)
		}},
		{"UpdateOrgSettings", func(t *testing.T) {
			d := "acme.test"
			s, err := q.UpdateOrgSettings(ctx, db.UpdateOrgSettingsParams{Name: "Acme", AllowedEmailDomain: &d,
				AllowedEmails: orgdb.EmailList{"x@acme.test"}, DomainGatingEnabled: true, UpdatedAt: now})
			must(t, err == nil && s.Name == "Acme" && s.DomainGatingEnabled && s.UpdatedAt.Equal(now.Time), "UpdateOrgSettings = %+v, %v", s, err)
		}},
		{"UpsertInvite", func(t *testing.T) {
			inv, err := q.UpsertInvite(ctx, db.UpsertInviteParams{ID: "i1", Email: "carol@acme.test", Role: orgdb.RoleMember,
				InvitedBy: "u1", ExpiresAt: later, CreatedAt: now})
			must(t, err == nil && inv.ID == "i1" && inv.AcceptedAt == nil, "UpsertInvite = %+v, %v", inv, err)
			inv, err = q.UpsertInvite(ctx, db.UpsertInviteParams{ID: "i2", Email: "carol@acme.test", Role: orgdb.RoleAdmin,
				InvitedBy: "u1", ExpiresAt: later, CreatedAt: now})
			must(t, err == nil && inv.ID == "i2" && inv.Role == orgdb.RoleAdmin, "re-invite = %+v, %v", inv, err)
		}},
		{"GetInvite", func(t *testing.T) {
			inv, err := q.GetInvite(ctx, "i2")
			must(t, err == nil && inv.Email == "carol@acme.test", "GetInvite = %+v, %v", inv, err)
		}},
		{"GetInviteByEmail", func(t *testing.T) {
			inv, err := q.GetInviteByEmail(ctx, db.GetInviteByEmailParams{Email: " CAROL@acme.test ", Now: now})
			must(t, err == nil && inv.ID == "i2", "GetInviteByEmail = %+v, %v", inv, err)
		}},
		{"HasInvites", func(t *testing.T) {
			ok, err := q.HasInvites(ctx)
			must(t, err == nil && ok, "HasInvites = %v, %v", ok, err)
		}},
		{"ListInvites", func(t *testing.T) {
			end := orgdb.NewTime(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
			invs, err := q.ListInvites(ctx, db.ListInvitesParams{Now: now, BeforeCreatedAt: end, PageSize: 10})
			must(t, err == nil && len(invs) == 1 && invs[0].Status == orgdb.InvitePending, "ListInvites = %+v, %v", invs, err)
			invs, err = q.ListInvites(ctx, db.ListInvitesParams{Now: later, BeforeCreatedAt: end, PageSize: 10})
			must(t, err == nil && len(invs) == 1 && invs[0].Status == orgdb.InviteExpired, "ListInvites later = %+v, %v", invs, err)
			invs, err = q.ListInvites(ctx, db.ListInvitesParams{Now: now, BeforeCreatedAt: invs[0].CreatedAt, BeforeID: invs[0].ID, PageSize: 10})
			must(t, err == nil && len(invs) == 0, "ListInvites after the last = %+v, %v", invs, err)
		}},
		{"AcceptInvite", func(t *testing.T) {
			inv, err := q.AcceptInvite(ctx, db.AcceptInviteParams{AcceptedAt: &now, ID: "i2", Now: now})
			must(t, err == nil && inv.AcceptedAt != nil, "AcceptInvite = %+v, %v", inv, err)
		}},
		{"DeleteExpiredInvites", func(t *testing.T) {
			q.UpsertInvite(ctx, db.UpsertInviteParams{ID: "i3", Email: "dan@acme.test", Role: orgdb.RoleMember, InvitedBy: "u2", ExpiresAt: now, CreatedAt: now})
			n, err := q.DeleteExpiredInvites(ctx, later)
			must(t, err == nil && n == 1, "DeleteExpiredInvites = %d, %v", n, err) // i3; accepted i2 stays
		}},
		{"InsertIntegration", func(t *testing.T) {
			it, err := q.InsertIntegration(ctx, db.InsertIntegrationParams{ID: "g1", UserID: "u2", Service: "github", Config: "{}", Status: "active", Scope: orgdb.ScopeOrg})
			must(t, err == nil && it.Scope == orgdb.ScopeOrg, "InsertIntegration = %+v, %v", it, err)
			_, err = q.InsertIntegration(ctx, db.InsertIntegrationParams{ID: "g2", UserID: "u1", Service: "slack", Config: "{}", Status: "active", Scope: orgdb.ScopeUser})
			must(t, err == nil, "InsertIntegration user: %v", err)
		}},
		{"GetIntegration", func(t *testing.T) {
			it, err := q.GetIntegration(ctx, "g1")
			must(t, err == nil && it.Service == "github", "GetIntegration = %+v, %v", it, err)
		}},
		{"ListIntegrationsForUser", func(t *testing.T) {
			its, err := q.ListIntegrationsForUser(ctx, "u1")
			must(t, err == nil && len(its) == 2, "ListIntegrationsForUser(u1) = %+v, %v", its, err)
			its, err = q.ListIntegrationsForUser(ctx, "u2")
			must(t, err == nil && len(its) == 1 && its[0].ID == "g1", "ListIntegrationsForUser(u2) = %+v, %v", its, err)
		}},
		{"UpdateOrgIntegration", func(t *testing.T) {
			msg := "token expired"
			it, err := q.UpdateOrgIntegration(ctx, db.UpdateOrgIntegrationParams{Config: `{"a":1}`, Status: "error", ErrorMessage: &msg, UpdatedAt: now, ID: "g1"})
			must(t, err == nil && it.Status == "error" && *it.ErrorMessage == msg, "UpdateOrgIntegration = %+v, %v", it, err)
			_, err = q.UpdateOrgIntegration(ctx, db.UpdateOrgIntegrationParams{Config: "{}", Status: "x", UpdatedAt: now, ID: "g2"})
			must(t, err != nil, "UpdateOrgIntegration updated a user integration")
		}},
		{"GetSealingKey", func(t *testing.T) {
			_, err := q.GetSealingKey(ctx)
			must(t, errors.Is(err, sql.ErrNoRows), "GetSealingKey before any key = %v", err)
		}},
		{"GetSealingKDF", func(t *testing.T) {
			k, err := q.GetSealingKDF(ctx)
			must(t, err == nil && len(k.Salt) == 32 && k.Iterations >= 600000 && k.LegacyKeyID == nil,
				"GetSealingKDF of a new database = %+v, %v", k, err)
		}},
		{"HasOrgAPIKeys", func(t *testing.T) {
			ok, err := q.HasOrgAPIKeys(ctx)
			must(t, err == nil && !ok, "HasOrgAPIKeys before any key = %v, %v", ok, err)
		}},
		{"InsertAPIToken", func(t *testing.T) {
			tok, err := q.InsertAPIToken(ctx, db.InsertAPITokenParams{ID: "t1", UserID: "u1", Name: "web", TokenHash: strings.Repeat("ab", 32), Prefix: "orgdb_abcdef", CreatedAt: now})
			must(t, err == nil && tok.ID == "t1" && tok.UserID == "u1" && tok.LastUsedAt == nil && tok.ExpiresAt == nil && tok.RevokedAt == nil, "InsertAPIToken = %+v, %v", tok, err)
			_, err = q.InsertAPIToken(ctx, db.InsertAPITokenParams{ID: "t2", UserID: "u1", TokenHash: strings.Repeat("ab", 32), Prefix: "orgdb_abcdef", CreatedAt: now})
			must(t, err != nil, "InsertAPIToken of the same hash succeeded")
			_, err = q.InsertAPIToken(ctx, db.InsertAPITokenParams{ID: "t3", UserID: "u1", TokenHash: "not hex", Prefix: "p", CreatedAt: now})
			must(t, err != nil, "InsertAPIToken of a hash that is not hex succeeded")
		}},
		{"GetAPITokenByHash", func(t *testing.T) {
			r, err := q.GetAPITokenByHash(ctx, db.GetAPITokenByHashParams{TokenHash: strings.Repeat("ab", 32), Now: &now})
			must(t, err == nil && r.ID == "t1" && r.UserID == "u1" && r.Role == string(orgdb.RoleAdmin), "GetAPITokenByHash = %+v, %v", r, err)
			_, err = q.GetAPITokenByHash(ctx, db.GetAPITokenByHashParams{TokenHash: strings.Repeat("cd", 32), Now: &now})
			must(t, errors.Is(err, sql.ErrNoRows), "GetAPITokenByHash of an unknown hash: %v", err)
		}},
		{"TouchAPIToken", func(t *testing.T) {
			before := orgdb.NewTime(now.Add(-time.Minute))
			n, err := q.TouchAPIToken(ctx, db.TouchAPITokenParams{Now: &now, ID: "t1", StaleBefore: before.UTC().Format(orgdb.TimeLayout)})
			must(t, err == nil && n == 1, "first TouchAPIToken = %d, %v", n, err)
			n, err = q.TouchAPIToken(ctx, db.TouchAPITokenParams{Now: &now, ID: "t1", StaleBefore: before.UTC().Format(orgdb.TimeLayout)})
			must(t, err == nil && n == 0, "TouchAPIToken within the minute = %d, %v", n, err)
		}},
		{"GetAPIToken", func(t *testing.T) {
			tok, err := q.GetAPIToken(ctx, "t1")
			must(t, err == nil && tok.LastUsedAt != nil && tok.LastUsedAt.Equal(now.Time), "GetAPIToken = %+v, %v", tok, err)
		}},
		{"ListAPITokens", func(t *testing.T) {
			toks, err := q.ListAPITokens(ctx)
			must(t, err == nil && len(toks) == 1 && toks[0].Email == "Ada@acme.test" && toks[0].Name == "web", "ListAPITokens = %+v, %v", toks, err)
		}},
		{"RevokeAPIToken", func(t *testing.T) {
			n, err := q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{Now: &now, ID: "t1"})
			must(t, err == nil && n == 1, "RevokeAPIToken = %d, %v", n, err)
			n, err = q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{Now: &now, ID: "t1"})
			must(t, err == nil && n == 0, "second RevokeAPIToken = %d, %v", n, err)
			_, err = q.GetAPITokenByHash(ctx, db.GetAPITokenByHashParams{TokenHash: strings.Repeat("ab", 32), Now: &now})
			must(t, errors.Is(err, sql.ErrNoRows), "GetAPITokenByHash of a revoked token: %v", err)
		}},
		{"UpsertOrgAPIKey", func(t *testing.T) {
			k, err := q.UpsertOrgAPIKey(ctx, db.UpsertOrgAPIKeyParams{ID: "k1", Provider: orgdb.ProviderOpenAI, EncryptedKey: "v1:00000000:sealed-1", SetBy: "u1", Now: now})
			must(t, err == nil && k.ID == "k1" && k.SetBy == "u1", "UpsertOrgAPIKey = %+v, %v", k, err)
			k, err = q.UpsertOrgAPIKey(ctx, db.UpsertOrgAPIKeyParams{ID: "k2", Provider: orgdb.ProviderOpenAI, EncryptedKey: "v1:00000000:sealed", SetBy: "u2", Now: later})
			must(t, err == nil && k.ID == "k1" && k.SetBy == "u2" && k.EncryptedKey == "v1:00000000:sealed" && k.CreatedAt.Equal(now.Time) && k.UpdatedAt.Equal(later.Time),
				"second UpsertOrgAPIKey = %+v, %v", k, err)
		}},
		{"GetOrgAPIKey", func(t *testing.T) {
			k, err := q.GetOrgAPIKey(ctx, orgdb.ProviderOpenAI)
			must(t, err == nil && k.EncryptedKey == "v1:00000000:sealed", "GetOrgAPIKey = %+v, %v", k, err)
		}},
		{"ListOrgAPIKeys", func(t *testing.T) {
			keys, err := q.ListOrgAPIKeys(ctx)
			must(t, err == nil && len(keys) == 1 && keys[0].Provider == orgdb.ProviderOpenAI && keys[0].SetBy == "u2", "ListOrgAPIKeys = %+v, %v", keys, err)
		}},
		{"ListSealedOrgAPIKeys", func(t *testing.T) {
			keys, err := q.ListSealedOrgAPIKeys(ctx)
			must(t, err == nil && len(keys) == 1 && keys[0].EncryptedKey == "v1:00000000:sealed", "ListSealedOrgAPIKeys = %+v, %v", keys, err)
		}},
		{"ResealOrgAPIKey", func(t *testing.T) {
			n, err := q.ResealOrgAPIKey(ctx, db.ResealOrgAPIKeyParams{NewSealed: "v1:00000000:x", ID: "k1", OldSealed: "not-current"})
			must(t, err == nil && n == 0, "ResealOrgAPIKey with a stale value = %d, %v", n, err)
			n, err = q.ResealOrgAPIKey(ctx, db.ResealOrgAPIKeyParams{NewSealed: "v1:00000000:sealed", ID: "k1", OldSealed: "v1:00000000:sealed"})
			must(t, err == nil && n == 1, "ResealOrgAPIKey = %d, %v", n, err)
		}},
		{"MoveSealingKey", func(t *testing.T) {
			// UpsertOrgAPIKey's value recorded its key, 00000000 (a trigger).
			n, err := q.MoveSealingKey(ctx, db.MoveSealingKeyParams{NewKeyID: "0000000b", Now: later, OldKeyID: "0000000c"})
			must(t, err == nil && n == 0, "MoveSealingKey from a key not recorded = %d, %v", n, err)
			n, err = q.MoveSealingKey(ctx, db.MoveSealingKeyParams{NewKeyID: "0000000b", Now: later, OldKeyID: "00000000"})
			must(t, err == nil && n == 1, "MoveSealingKey = %d, %v", n, err)
			k, err := q.GetSealingKey(ctx)
			must(t, err == nil && k.KeyID == "0000000b" && k.UpdatedAt.Equal(later.Time), "GetSealingKey = %+v, %v", k, err)
			n, err = q.MoveSealingKey(ctx, db.MoveSealingKeyParams{NewKeyID: "00000000", Now: later, OldKeyID: "0000000b"})
			must(t, err == nil && n == 1, "MoveSealingKey back = %d, %v", n, err)
		}},
		{"CountUserReferences", func(t *testing.T) {
			r, err := q.CountUserReferences(ctx, "u2")
			must(t, err == nil && r == db.CountUserReferencesRow{Invites: 0, OrgAPIKeys: 1, OrgIntegrations: 1}, "CountUserReferences = %+v, %v", r, err)
		}},
		{"ReassignInvites", func(t *testing.T) {
			n, err := q.ReassignInvites(ctx, db.ReassignInvitesParams{ToUser: "u2", FromUser: "u1"})
			must(t, err == nil && n == 1, "ReassignInvites = %d, %v", n, err)
		}},
		{"ReassignOrgAPIKeys", func(t *testing.T) {
			n, err := q.ReassignOrgAPIKeys(ctx, db.ReassignOrgAPIKeysParams{ToUser: "u1", FromUser: "u2"})
			must(t, err == nil && n == 1, "ReassignOrgAPIKeys = %d, %v", n, err)
		}},
		{"ReassignOrgIntegrations", func(t *testing.T) {
			n, err := q.ReassignOrgIntegrations(ctx, db.ReassignOrgIntegrationsParams{ToUser: "u1", FromUser: "u2"})
			must(t, err == nil && n == 1, "ReassignOrgIntegrations = %d, %v", n, err)
		}},
		{"DeleteOrgIntegration", func(t *testing.T) {
			n, err := q.DeleteOrgIntegration(ctx, "g2")
			must(t, err == nil && n == 0, "DeleteOrgIntegration deleted a user integration: %d, %v", n, err)
			n, err = q.DeleteOrgIntegration(ctx, "g1")
			must(t, err == nil && n == 1, "DeleteOrgIntegration = %d, %v", n, err)
		}},
		{"DeleteInvite", func(t *testing.T) {
			n, err := q.DeleteInvite(ctx, "i2")
			must(t, err == nil && n == 1, "DeleteInvite = %d, %v", n, err)
		}},
		{"DeleteOrgAPIKey", func(t *testing.T) {
			n, err := q.DeleteOrgAPIKey(ctx, orgdb.ProviderOpenAI)
			must(t, err == nil && n == 1, "DeleteOrgAPIKey = %d, %v", n, err)
		}},
		{"DeleteUser", func(t *testing.T) {
			n, err := q.DeleteUser(ctx, "u2")
			must(t, err == nil && n == 1, "DeleteUser = %d, %v", n, err)
			n, err = q.DeleteUser(ctx, "u1")
			must(t, err == nil && n == 0, "DeleteUser of the last admin = %d, %v", n, err)
		}},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, c.run)
		tested[c.name] = true
	}

	generated := map[string]bool{}
	typ := reflect.TypeFor[*db.Queries]()
	for i := range typ.NumMethod() {
		if m := typ.Method(i).Name; m != "WithTx" && m != "Close" {
			generated[m] = true
		}
	}
	declared := queryDeclarations(t)
	for _, name := range slices.Sorted(maps.Keys(generated)) {
		if !tested[name] {
			t.Errorf("query %s (%s) has no case in TestEveryQueryRuns: add one to its cases in store/queries_test.go", name, declared[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tested)) {
		if !generated[name] {
			t.Errorf("case %s: gen/db has no such query (renamed or removed in queries/?): rename or remove the case", name)
		}
	}
}

// queryDeclarations maps each query name to the file:line of its
// "-- name:" comment in queries/.
func queryDeclarations(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("queries/*.sql: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				if fields := strings.Fields(rest); len(fields) > 0 {
					out[fields[0]] = fmt.Sprintf("queries/%s:%d", filepath.Base(f), i+1)
				}
			}
		}
	}
	return out
}
