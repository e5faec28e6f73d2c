package httpapi_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/httpapi"
)

// WriteError: every code gets its status (orgdb's own mapping: a
// NOT_PRIMARY write on a LiteFS replica is 421 naming the primary) and the
// client's error body; a 500 says only "internal error" to the client and
// logs its cause for the operator.
func TestWriteError(t *testing.T) {
	codes := []orgdb.Code{orgdb.CodeValidation, orgdb.CodeUnauthorized, orgdb.CodeForbidden, orgdb.CodeNotFound, orgdb.CodeConflict,
		orgdb.CodeEncryption, orgdb.CodeInternal, orgdb.CodeNotPrimary, orgdb.CodeUnavailable}
	for _, code := range codes {
		var logs bytes.Buffer
		e := orgdb.Wrap(code, errors.New("disk on fire at /srv/secret/path"), "something about %s", code)
		if code == orgdb.CodeNotPrimary {
			e = e.WithDetails("primary", "node-a")
		}
		rec := httptest.NewRecorder()
		httpapi.WriteError(rec, httptest.NewRequest("PUT", "/api/admin", nil), slog.New(slog.NewTextHandler(&logs, nil)), e)
		if rec.Code != code.HTTPStatus() {
			t.Errorf("%s: status %d, want %d", code, rec.Code, code.HTTPStatus())
		}
		body := errorBody(t, rec.Body.Bytes())
		if body.Code != string(code) {
			t.Errorf("%s: body code %q", code, body.Code)
		}
		if strings.Contains(rec.Body.String(), "/srv/secret") || strings.Contains(rec.Body.String(), "disk on fire") {
			t.Errorf("%s: the body carries the cause: %s", code, rec.Body)
		}
		if rec.Code >= 500 && !strings.Contains(logs.String(), "disk on fire") {
			t.Errorf("%s: the cause of a 5xx is not logged: %q", code, logs.String())
		}
		if rec.Code < 500 && logs.Len() > 0 {
			t.Errorf("%s: a 4xx was logged as a failure: %q", code, logs.String())
		}
		switch code {
		case orgdb.CodeNotPrimary:
			if rec.Code != http.StatusMisdirectedRequest || body.Details["primary"] != "node-a" {
				t.Errorf("NOT_PRIMARY: %d %v", rec.Code, body.Details)
			}
		case orgdb.CodeInternal:
			if body.Error != orgdb.InternalMessage {
				t.Errorf("INTERNAL_ERROR says %q to the client", body.Error)
			}
		case orgdb.CodeUnauthorized:
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate")
			}
		}
	}
	// An error that is not orgdb's is a 500 with the fixed text.
	rec := httptest.NewRecorder()
	var logs bytes.Buffer
	httpapi.WriteError(rec, httptest.NewRequest("GET", "/api/admin", nil), slog.New(slog.NewTextHandler(&logs, nil)), errors.New("sqlite: /srv/x.db is locked"))
	if rec.Code != 500 || errorBody(t, rec.Body.Bytes()).Error != orgdb.InternalMessage || !strings.Contains(logs.String(), "/srv/x.db") {
		t.Errorf("a foreign error: %d %s, log %q", rec.Code, rec.Body, logs.String())
	}
}

// An authenticator that gives only the user id (no role) gets the same
// answers: the admin check is then the store's Authorize, and an id no
// user has is 401.
func TestAuthenticatorWithoutRole(t *testing.T) {
	f := newFixture(t)
	h := httpapi.New(f.st, httpapi.AuthenticatorFunc(func(r *http.Request) (string, error) {
		if id := r.Header.Get("X-Test-User"); id != "" {
			return id, nil
		}
		return "", orgdb.Unauthorized("Authentication required")
	}))
	for id, want := range map[string]int{f.admin.ID: 200, f.member.ID: 403, "NOSUCHUSER": 401, "": 401} {
		for _, path := range []string{"/api/admin", "/api/admin/users"} {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("X-Test-User", id)
			h.ServeHTTP(rec, r)
			if rec.Code != want {
				t.Errorf("user %q, GET %s: %d %s, want %d", id, path, rec.Code, rec.Body, want)
			}
		}
	}
}

// The web client logs in at /auth/callback?token=T: the access log names
// the path, never the query, so the token stays out of it.
func TestAccessLogLeavesOutTheQuery(t *testing.T) {
	var logs bytes.Buffer
	h := httpapi.AccessLog(slog.New(slog.NewTextHandler(&logs, nil)), httpapi.SPA(fstestIndex()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/auth/callback?token=orgdb_SECRETSECRETSECRET", nil))
	if rec.Code != 200 || !strings.Contains(logs.String(), "path=/auth/callback status=200") {
		t.Fatalf("%d, log %q", rec.Code, logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("the access log carries the query: %q", logs.String())
	}
}
