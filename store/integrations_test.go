package store_test

import (
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

func TestOrgIntegrations(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin := signup(t, st, "ada@acme.test")
	member := signup(t, st, "bob@acme.test")
	addUserIntegration(t, st, "mine", member.ID, "slack")

	before := dbtest.Snapshot(t, st.DB())
	_, err := st.CreateOrgIntegration(ctx, store.ByUser(member.ID), store.NewOrgIntegration{Service: "github"})
	wantErr(t, err, orgdb.CodeForbidden, "admin_required")
	_, err = st.CreateOrgIntegration(ctx, store.ByUser(admin.ID), store.NewOrgIntegration{Service: "github", Config: "[1,2]"})
	wantErr(t, err, orgdb.CodeValidation, "")
	_, err = st.CreateOrgIntegration(ctx, store.ByUser(admin.ID), store.NewOrgIntegration{Service: " "})
	wantErr(t, err, orgdb.CodeValidation, "")
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused creations changed the database")
	}

	org, err := st.CreateOrgIntegration(ctx, store.ByUser(admin.ID), store.NewOrgIntegration{Service: "github", Config: `{"org":"acme"}`})
	if err != nil || org.Scope != orgdb.ScopeOrg || org.Status != "pending" || org.UserID != admin.ID {
		t.Fatalf("CreateOrgIntegration = %+v, %v", org, err)
	}
	_, err = st.CreateOrgIntegration(ctx, store.ByUser(admin.ID), store.NewOrgIntegration{Service: "github"})
	wantErr(t, err, orgdb.CodeConflict, "")

	// A member sees their own integrations plus the org's, each with its scope.
	its, err := st.ListIntegrationsForUser(ctx, member.ID)
	if err != nil || len(its) != 2 {
		t.Fatalf("member's integrations = %+v, %v", its, err)
	}
	scopes := map[string]orgdb.IntegrationScope{}
	for _, it := range its {
		scopes[it.ID] = it.Scope
	}
	if scopes["mine"] != orgdb.ScopeUser || scopes[org.ID] != orgdb.ScopeOrg {
		t.Errorf("scopes = %v", scopes)
	}
	// The admin does not see the member's own integration.
	if its, err := st.ListIntegrationsForUser(ctx, admin.ID); err != nil || len(its) != 1 || its[0].ID != org.ID {
		t.Errorf("admin's integrations = %+v", its)
	}

	msg := "token revoked"
	up, err := st.UpdateOrgIntegration(ctx, store.ByUser(admin.ID), org.ID, store.OrgIntegrationUpdate{Config: `{"org":"acme2"}`, Status: "error", ErrorMessage: &msg})
	if err != nil || up.Config != `{"org":"acme2"}` || up.Status != "error" || *up.ErrorMessage != msg {
		t.Errorf("UpdateOrgIntegration = %+v, %v", up, err)
	}
	_, err = st.UpdateOrgIntegration(ctx, store.ByUser(member.ID), org.ID, store.OrgIntegrationUpdate{Status: "active"})
	wantErr(t, err, orgdb.CodeForbidden, "")
	_, err = st.UpdateOrgIntegration(ctx, store.ByUser(admin.ID), "mine", store.OrgIntegrationUpdate{Status: "active"})
	wantErr(t, err, orgdb.CodeNotFound, "")

	wantErr(t, st.DeleteOrgIntegration(ctx, store.ByUser(member.ID), org.ID), orgdb.CodeForbidden, "")
	wantErr(t, st.DeleteOrgIntegration(ctx, store.ByUser(admin.ID), "mine"), orgdb.CodeNotFound, "")
	if err := st.DeleteOrgIntegration(ctx, store.ByUser(admin.ID), org.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, st.DeleteOrgIntegration(ctx, store.ByUser(admin.ID), org.ID), orgdb.CodeNotFound, "")
}
