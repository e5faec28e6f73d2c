package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// row is what the route×case table knows of one route: how to call it
// successfully, and its bad body and unknown id, where it has them.
type row struct {
	// path makes what a call needs (a fresh invite, user or key) and
	// returns the path; every case of the row calls that path.
	path   func(f *fixture) string
	body   string // the success body; "" for a route without one
	status int    // the success status
	// shape is the client's type the success body decodes into.
	shape func() any
	// anyUser: the route is any signed-in user's (a member gets 200, not
	// 403).
	anyUser bool
	// badBody is a body the route must refuse with 400 naming
	// badField; "" for a route that takes no body.
	badBody, badField string
	// unknown is the path with an id or provider that does not exist;
	// "" for a route without one. unknownStatus is its answer.
	unknown       string
	unknownStatus int
}

func fixed(p string) func(*fixture) string { return func(*fixture) string { return p } }

// table is every route of the API. TestRouteTable checks it against the
// handler's own route list, so a new route without a row fails.
func table() map[string]row {
	return map[string]row{
		"GET /api/admin": {path: fixed("/api/admin"), status: 200, shape: func() any { return new(clientOrgSettings) }},
		"PUT /api/admin": {path: fixed("/api/admin"), body: `{"name":"Acme","allowedEmails":"a@acme.test,b@acme.test","emailAllowlistEnabled":false}`,
			status: 200, shape: func() any { return new(clientOrgSettings) }, badBody: `{"name":"Acme","nme":"typo"}`, badField: "nme"},
		"GET /api/admin/llm-keys": {path: fixed("/api/admin/llm-keys"), status: 200, shape: func() any { return new([]clientOrgAPIKey) }},
		"PUT /api/admin/llm-keys/{provider}": {path: fixed("/api/admin/llm-keys/openai"), body: `{"key":"sk-route-table-secret"}`,
			status: 200, shape: func() any { return new(clientOK) }, badBody: `{"key":42}`, badField: "key",
			unknown: "/api/admin/llm-keys/mistral", unknownStatus: 400},
		"DELETE /api/admin/llm-keys/{provider}": {path: func(f *fixture) string {
			_, err := f.st.SetOrgAPIKey(ctx, store.ByUser(f.admin.ID), "google", seal.NewSecret("g-route-table-secret"))
			must(f.t, err)
			return "/api/admin/llm-keys/google"
		}, status: 200, shape: func() any { return new(clientOK) }, unknown: "/api/admin/llm-keys/mistral", unknownStatus: 400},
		"GET /api/admin/invites": {path: fixed("/api/admin/invites"), status: 200, shape: func() any { return new([]clientListedInvite) }},
		"POST /api/admin/invites": {path: fixed("/api/admin/invites"), body: `{"email":"new@acme.test","role":"admin"}`,
			status: 201, shape: func() any { return new(clientInvite) }, badBody: `{"email":"new@acme.test","role":"owner"}`, badField: "role"},
		"DELETE /api/admin/invites/{id}": {path: func(f *fixture) string {
			inv, err := f.st.CreateInvite(ctx, store.ByUser(f.admin.ID), store.NewInvite{Email: fmt.Sprintf("inv%d@acme.test", f.seq.Add(1))})
			must(f.t, err)
			return "/api/admin/invites/" + inv.ID
		}, status: 200, shape: func() any { return new(clientOK) }, unknown: "/api/admin/invites/NOSUCHINVITE", unknownStatus: 404},
		"GET /api/admin/users": {path: fixed("/api/admin/users"), status: 200, shape: func() any { return new([]clientUser) }},
		"PATCH /api/admin/users/{id}": {path: func(f *fixture) string { return "/api/admin/users/" + f.fresh("p").ID }, body: `{"role":"admin"}`,
			status: 200, shape: func() any { return new(clientOK) }, badBody: `{"role":"admin","roles":["x"]}`, badField: "roles",
			unknown: "/api/admin/users/NOSUCHUSER", unknownStatus: 404},
		"DELETE /api/admin/users/{id}": {path: func(f *fixture) string { return "/api/admin/users/" + f.fresh("d").ID },
			status: 200, shape: func() any { return new(clientOK) }, unknown: "/api/admin/users/NOSUCHUSER", unknownStatus: 404},
		"GET /api/auth/me": {path: fixed("/api/auth/me"), status: 200, shape: func() any { return new(clientMe) }, anyUser: true},
	}
}

// Every route × {success, no token, bad token, revoked token, expired
// token, member, bad body, unknown id}: the rows come from the handler's
// route list, so a route added without a row fails here, as does a row
// for a route that is gone. Every refusal leaves the database unchanged
// and answers the client's error shape; no token reaches the log.
func TestRouteTable(t *testing.T) {
	f := newFixture(t)
	rows := table()
	routes := f.h.Routes()
	if len(routes) == 0 {
		t.Fatal("the handler lists no routes")
	}
	for _, r := range routes {
		if _, ok := rows[r.String()]; !ok {
			t.Errorf("route %s has no row in the route×case table: add one to table() in routes_test.go", r)
		}
	}
	for k := range rows {
		if !slices.ContainsFunc(routes, func(r httpapi.Route) bool { return r.String() == k }) {
			t.Errorf("the table has a row for %s, which the handler does not register", k)
		}
	}
	for _, r := range routes {
		rw, ok := rows[r.String()]
		if !ok {
			continue
		}
		t.Run(strings.ReplaceAll(r.String(), "/", "_"), func(t *testing.T) {
			f.t = t
			// A refusal: status, the client's error shape with code, and
			// nothing changed.
			refused := func(name, token, path, body string, status int, code string) clientError {
				t.Helper()
				before := f.snapshot()
				resp, b := f.do(r.Method, path, token, body)
				if resp.StatusCode != status {
					t.Fatalf("%s: %s %s: status %d, want %d: %s", name, r.Method, path, resp.StatusCode, status, b)
				}
				e := errorBody(t, b)
				if e.Code != code {
					t.Errorf("%s: code %q, want %q", name, e.Code, code)
				}
				if status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: 401 without WWW-Authenticate: Bearer", name)
				}
				if after := f.snapshot(); after != before {
					t.Errorf("%s changed the database:\nbefore\n%s\nafter\n%s", name, before, after)
				}
				return e
			}
			path := rw.path(f)
			refused("no token", "", path, rw.body, 401, "UNAUTHORIZED")
			refused("bad token", f.tokens["bad"], path, rw.body, 401, "UNAUTHORIZED")
			refused("revoked token", f.tokens["revoked"], path, rw.body, 401, "UNAUTHORIZED")
			refused("expired token", f.tokens["expired"], path, rw.body, 401, "UNAUTHORIZED")
			refused("not bearer", "Basic "+f.tokens["admin"], path, rw.body, 401, "UNAUTHORIZED")
			if !rw.anyUser {
				if e := refused("member", f.tokens["member"], path, rw.body, 403, "FORBIDDEN"); e.Error != "Admin access required" {
					t.Errorf("member: error %q, want the service's %q", e.Error, "Admin access required")
				}
			} else if resp, b := f.do(r.Method, path, f.tokens["member"], rw.body); resp.StatusCode != rw.status {
				t.Errorf("member: status %d, want %d: %s", resp.StatusCode, rw.status, b)
			}
			if rw.badBody != "" {
				e := refused("bad body", f.tokens["admin"], path, rw.badBody, 400, "VALIDATION_ERROR")
				if e.Details["field"] != rw.badField {
					t.Errorf("bad body: details.field %v, want %q", e.Details["field"], rw.badField)
				}
			}
			if rw.unknown != "" {
				code := map[int]string{400: "VALIDATION_ERROR", 404: "NOT_FOUND"}[rw.unknownStatus]
				refused("unknown id", f.tokens["admin"], rw.unknown, rw.body, rw.unknownStatus, code)
			}
			// Success last: it changes the database.
			resp, b := f.do(r.Method, path, f.tokens["admin"], rw.body)
			if resp.StatusCode != rw.status {
				t.Fatalf("success: status %d, want %d: %s", resp.StatusCode, rw.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("success: Content-Type %q", ct)
			}
			decodeStrict(t, b, rw.shape())
		})
	}
	f.t = t
	checkLogs(t, f, "sk-route-table-secret", "g-route-table-secret")
}

// checkLogs: the access log has a line per request, naming the user, and
// no token, no token's hash and none of the secrets given.
func checkLogs(t *testing.T, f *fixture, secrets ...string) {
	t.Helper()
	logs := f.logs.String()
	if !regexp.MustCompile(`msg=request method=GET path=/api/admin status=200 duration=\S+ user=` + f.admin.ID).MatchString(logs) {
		t.Fatalf("the access log lacks a line for an admin's GET /api/admin:\n%s", logs)
	}
	for state, tok := range f.tokens {
		sum := sha256.Sum256([]byte(tok))
		for _, s := range []string{tok, tok[len(tok)-20:], hex.EncodeToString(sum[:])} {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains the %s token (or its hash)", state)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
}
