package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/store"
)

// A body is one JSON object of the route's fields, at most 1 MiB: anything
// else is refused with a clear error naming the field, and changes nothing.
func TestStrictDecoding(t *testing.T) {
	f := newFixture(t)
	big := `{"name":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
	for _, c := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"unknown field", `{"name":"Acme","extra":1}`, 400, "extra"},
		{"wrong case", `{"Name":"Acme"}`, 400, "Name"},
		{"wrong type", `{"name":5}`, 400, "name"},
		{"wrong type bool", `{"domainGatingEnabled":"yes"}`, 400, "domainGatingEnabled"},
		{"trailing data", `{"name":"Acme"} {"name":"Evil"}`, 400, ""},
		{"trailing garbage", `{"name":"Acme"}x`, 400, ""},
		{"array", `[{"name":"Acme"}]`, 400, ""},
		{"null", `null`, 400, ""},
		{"string", `"Acme"`, 400, ""},
		{"empty", ``, 400, ""},
		{"not JSON", `{name: Acme}`, 400, ""},
		{"truncated", `{"name":"Acme"`, 400, ""},
		{"too large", big, 413, ""},
		{"invalid value", `{"name":""}`, 400, "name"},
		{"invalid allowlist", `{"allowedEmails":"a@acme.test,not-an-email"}`, 400, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.snapshot()
			resp, b := f.do("PUT", "/api/admin", f.tokens["admin"], c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, c.status, b)
			}
			e := errorBody(t, b)
			if e.Code != string(orgdb.CodeValidation) {
				t.Errorf("code %q", e.Code)
			}
			if c.field != "" && e.Details["field"] != c.field {
				t.Errorf("details.field %v, want %q (%s)", e.Details["field"], c.field, e.Error)
			}
			if len(b) > 1000 {
				t.Errorf("the error repeats the body (%d bytes)", len(b))
			}
			if f.snapshot() != before {
				t.Error("the refused body changed the database")
			}
		})
	}
	// The client's own bodies are accepted: a partial update ({name}
	// alone), the access-control save with both flags and the fields left
	// out when empty, an empty string that clears.
	for _, body := range []string{`{"name":"Acme"}`, `{"domainGatingEnabled":false,"emailAllowlistEnabled":false}`,
		`{"allowedEmailDomain":"acme.test","allowedEmails":"a@acme.test","domainGatingEnabled":true,"emailAllowlistEnabled":true}`,
		`{"allowedEmailDomain":"","allowedEmails":"","domainGatingEnabled":false,"emailAllowlistEnabled":false}`} {
		if resp, b := f.do("PUT", "/api/admin", f.tokens["admin"], body); resp.StatusCode != 200 {
			t.Errorf("the client's body %s: %d %s", body, resp.StatusCode, b)
		}
	}
	s, err := f.st.GetOrgSettings(ctx)
	must(t, err)
	if s.Name != "Acme" || s.AllowedEmailDomain != nil || len(s.AllowedEmails) != 0 {
		t.Errorf("after the client's bodies: %+v", s)
	}
}

// A path of the API with a method it does not serve answers 405 with
// Allow listing the methods it does (HEAD with GET), as JSON; the methods
// are derived from the handler's route list.
func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	methods := map[string][]string{}
	for _, r := range f.h.Routes() {
		methods[r.Pattern] = append(methods[r.Pattern], r.Method)
	}
	for pattern, ms := range methods {
		if slices.Contains(ms, "GET") {
			ms = append(ms, "HEAD")
		}
		slices.Sort(ms)
		path := strings.NewReplacer("{id}", "X", "{provider}", "openai").Replace(pattern)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(ms, m) {
				continue
			}
			resp, b := f.do(m, path, f.tokens["admin"], "")
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405: %s", m, path, resp.StatusCode, b)
				continue
			}
			errorBody(t, b)
			got := strings.Split(resp.Header.Get("Allow"), ", ")
			if !slices.Equal(got, ms) {
				t.Errorf("%s %s: Allow %v, want %v", m, path, got, ms)
			}
		}
	}
	// A path the API does not have: 404, as JSON.
	for _, p := range []string{"/api/nope", "/api/admin/users/", "/api/admin/users/a/b", "/api/"} {
		resp, b := f.do("GET", p, f.tokens["admin"], "")
		if resp.StatusCode != 404 || errorBody(t, b).Code != "NOT_FOUND" {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
		}
	}
}

// A token acts as its user as the user is now: a demoted admin's token
// gets 403 at once, a deleted user's token 401 at once.
func TestTokenFollowsItsUser(t *testing.T) {
	f := newFixture(t)
	second := f.fresh("second")
	_, err := f.st.UpdateUserRole(ctx, store.ByUser(f.admin.ID), second.ID, orgdb.RoleAdmin)
	must(t, err)
	tok := f.token(second.ID, zeroTime)
	if resp, b := f.do("GET", "/api/admin/users", tok, ""); resp.StatusCode != 200 {
		t.Fatalf("a new admin's token: %d %s", resp.StatusCode, b)
	}
	if resp, b := f.do("PATCH", "/api/admin/users/"+second.ID, f.tokens["admin"], `{"role":"member"}`); resp.StatusCode != 200 {
		t.Fatalf("demote: %d %s", resp.StatusCode, b)
	}
	if resp, b := f.do("GET", "/api/admin/users", tok, ""); resp.StatusCode != 403 {
		t.Errorf("a demoted admin's token: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := f.do("GET", "/api/auth/me", tok, ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"role":"member"`) {
		t.Errorf("a demoted admin's /auth/me: %d %s", resp.StatusCode, b)
	}
	if resp, b := f.do("DELETE", "/api/admin/users/"+second.ID, f.tokens["admin"], ""); resp.StatusCode != 200 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if resp, b := f.do("GET", "/api/auth/me", tok, ""); resp.StatusCode != 401 {
		t.Errorf("a deleted user's token: %d %s, want 401", resp.StatusCode, b)
	}
	// The last admin cannot demote themself: 409 with the store's words.
	resp, b := f.do("PATCH", "/api/admin/users/"+f.admin.ID, f.tokens["admin"], `{"role":"member"}`)
	if resp.StatusCode != 409 || errorBody(t, b).Error != "cannot demote the last admin" {
		t.Errorf("demoting the last admin: %d %s", resp.StatusCode, b)
	}
	// Removing a user who invited people moves their invites to the admin
	// who removes them (the page cannot reassign).
	inviter := f.fresh("inviter")
	_, err = f.st.UpdateUserRole(ctx, store.ByUser(f.admin.ID), inviter.ID, orgdb.RoleAdmin)
	must(t, err)
	inv, err := f.st.CreateInvite(ctx, store.ByUser(inviter.ID), store.NewInvite{Email: "invitee@acme.test"})
	must(t, err)
	if resp, b := f.do("DELETE", "/api/admin/users/"+inviter.ID, f.tokens["admin"], ""); resp.StatusCode != 200 {
		t.Fatalf("removing an inviter: %d %s", resp.StatusCode, b)
	}
	got, err := f.st.GetInvite(ctx, inv.ID)
	must(t, err)
	if got.InvitedBy != f.admin.ID {
		t.Errorf("the removed inviter's invite is by %s, want the admin %s", got.InvitedBy, f.admin.ID)
	}
	// An admin cannot remove themself.
	if resp, b := f.do("DELETE", "/api/admin/users/"+f.admin.ID, f.tokens["admin"], ""); resp.StatusCode != 403 {
		t.Errorf("deleting oneself: %d %s", resp.StatusCode, b)
	}
}

// 16 clients at once, on a real database file, mixing reads and writes:
// admins demote and promote each other and invite the same address; every
// answer is one the client expects (never a 5xx), and the invariants hold:
// an admin is always left, and one invite per address.
func TestConcurrentClients(t *testing.T) {
	f := newFixture(t)
	const clients, rounds = 16, 25
	var admins []string
	var tokens []string
	for range 4 {
		u := f.fresh("admin")
		_, err := f.st.UpdateUserRole(ctx, store.ByUser(f.admin.ID), u.ID, orgdb.RoleAdmin)
		must(t, err)
		admins = append(admins, u.ID)
		tokens = append(tokens, f.token(u.ID, zeroTime))
	}
	admins = append(admins, f.admin.ID)
	tokens = append(tokens, f.tokens["admin"])
	var wg sync.WaitGroup
	var created atomic.Int64
	errs := make(chan string, clients*rounds)
	for c := range clients {
		wg.Go(func() {
			for i := range rounds {
				tok := tokens[(c+2*i)%len(tokens)]
				var method, path, body string
				switch (c + i) % 5 {
				case 0:
					method, path = "GET", "/api/admin/users"
				case 1:
					method, path = "GET", "/api/admin"
				case 2:
					method, path, body = "PATCH", "/api/admin/users/"+admins[(c*7+i)%len(admins)], `{"role":"member"}`
				case 3:
					method, path, body = "PATCH", "/api/admin/users/"+admins[(c*3+i)%len(admins)], `{"role":"admin"}`
				case 4:
					method, path, body = "POST", "/api/admin/invites", `{"email":"race@acme.test"}`
				}
				resp, b, err := f.send(method, path, tok, body)
				if err != nil {
					errs <- fmt.Sprintf("%s %s: %v", method, path, err)
					continue
				}
				if resp.StatusCode == 201 {
					created.Add(1)
				}
				switch resp.StatusCode {
				case 200, 201, 403, 409: // 403: demoted meanwhile; 409: the last admin
				default:
					errs <- fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, b)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	n, err := f.st.CountAdmins(ctx)
	must(t, err)
	if n < 1 {
		t.Errorf("%d admins left", n)
	}
	invs, err := f.st.ListInvites(ctx, store.ListInvitesOptions{})
	must(t, err)
	race := 0
	for _, inv := range invs {
		if inv.Email == "race@acme.test" {
			race++
		}
	}
	if race != 1 || created.Load() == 0 {
		t.Errorf("%d invites for race@acme.test after %d created, want 1", race, created.Load())
	}
}

// The built web client is served from its directory; a path that is no
// file (a client-side route, /vite.svg) gets index.html.
func TestSPA(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html>index")},
		"assets/app-123.js": {Data: []byte("console.log(1)")},
	}
	h := httpapi.SPA(fsys)
	for path, want := range map[string]string{
		"/":                  "index",
		"/settings/admin":    "index",
		"/vite.svg":          "index",
		"/assets/app-123.js": "console.log(1)",
		"/assets/":           "index",
	} {
		rec := newRecorder()
		h.ServeHTTP(rec, mustRequest(t, "GET", path))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %q, want %q", path, rec.Code, rec.Body.String(), want)
		}
	}
	// And from a directory on disk, as orgdb serve --static does.
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("disk index"), 0o600))
	rec := newRecorder()
	httpapi.SPA(os.DirFS(dir)).ServeHTTP(rec, mustRequest(t, "GET", "/settings/admin"))
	if rec.Code != 200 || rec.Body.String() != "disk index" {
		t.Errorf("from disk: %d %q", rec.Code, rec.Body.String())
	}
}
