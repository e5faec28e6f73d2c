package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// Whatever body arrives, a route answers with the client's shapes: 200
// with the settings, or a 400/413 error body; never a 5xx, never a panic.
func FuzzBody(f *testing.F) {
	for _, s := range []string{`{"name":"Acme"}`, `{"allowedEmails":"a@x.io,b@y.io"}`, `{"allowedEmails":["a@x.io"]}`,
		`{"domainGatingEnabled":true}`, `{"Name":"x"}`, `{"name":"a"} {}`, `[]`, `null`, ``, `{"name":"\u0000"}`,
		`{"email":"x@y.z","role":"owner"}`, `{"key":"sk-1\n2"}`, `{"role":"admin","role":"member"}`} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, route := range [][2]string{{"PUT", "/api/admin"}, {"POST", "/api/admin/invites"}, {"PATCH", "/api/admin/users/" + fx.member.ID}} {
			r := httptest.NewRequest(route[0], route[1], strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+fx.tokens["admin"])
			rec := httptest.NewRecorder()
			fx.h.ServeHTTP(rec, r)
			switch {
			case rec.Code == 200 || rec.Code == 201:
			case rec.Code == 400 || rec.Code == 409 || rec.Code == 413:
				errorBody(t, rec.Body.Bytes())
			default:
				t.Fatalf("%s %s with %q: %d %s", route[0], route[1], body, rec.Code, rec.Body)
			}
		}
	})
}
