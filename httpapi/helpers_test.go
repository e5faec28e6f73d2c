package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/agentops/orgdb/apitoken"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

var ctx = context.Background()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log destination the server's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a real database file, the API over it on a real HTTP server
// (the same composition as orgdb serve: access log, /api/ mount, token
// authenticator), an admin and a member, and tokens in every state.
type fixture struct {
	t      testing.TB
	st     *store.Store
	h      *httpapi.Handler
	srv    *httptest.Server
	logs   *syncBuffer
	offset atomic.Int64 // the store's clock is time.Now() plus this many nanoseconds
	admin  db.User
	member db.User
	// tokens by state: admin, member, revoked, expired, bad (well formed,
	// never issued).
	tokens map[string]string
	seq    atomic.Int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, logs: &syncBuffer{}, tokens: map[string]string{}}
	key, err := seal.ParseKey(seal.GenerateKey())
	must(t, err)
	f.st = dbtest.New(t, store.WithSealingKey(key), store.WithClock(func() time.Time {
		return time.Now().Add(time.Duration(f.offset.Load()))
	}))
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	authn, err := apitoken.NewAuthenticator(ctx, f.st, log)
	must(t, err)
	t.Cleanup(func() { must(t, authn.Close()) })
	f.h = httpapi.New(f.st, authn, httpapi.WithLogger(log))
	mux := http.NewServeMux()
	mux.Handle("/api/", f.h)
	f.srv = httptest.NewServer(httpapi.AccessLog(log, mux))
	t.Cleanup(f.srv.Close)

	f.admin = f.user("admin@acme.test")
	_, err = f.st.BootstrapAdmin(ctx, store.Operator("test"), f.admin.Email)
	must(t, err)
	f.member = f.user("member@acme.test")
	f.tokens["admin"] = f.token(f.admin.ID, time.Time{})
	f.tokens["member"] = f.token(f.member.ID, time.Time{})
	revoked, err := apitoken.Create(ctx, f.st, store.Operator("test"), apitoken.NewToken{UserID: f.admin.ID})
	must(t, err)
	must(t, apitoken.Revoke(ctx, f.st, store.Operator("test"), revoked.Token.ID))
	f.tokens["revoked"] = revoked.Secret.Reveal()
	f.tokens["expired"] = f.token(f.admin.ID, time.Now().Add(time.Hour))
	f.offset.Store(int64(2 * time.Hour)) // the expired token's hour has passed
	var raw [32]byte
	_, err = rand.Read(raw[:])
	must(t, err)
	f.tokens["bad"] = apitoken.Scheme + base64.RawURLEncoding.EncodeToString(raw[:])
	return f
}

// user signs up a user outside the sign-up policy.
func (f *fixture) user(email string) db.User {
	f.t.Helper()
	u, err := f.st.CreateUserBypassingPolicy(ctx, store.Operator("test"), store.NewUser{Email: email})
	must(f.t, err)
	return u
}

// fresh is a new member with a unique email.
func (f *fixture) fresh(what string) db.User {
	return f.user(fmt.Sprintf("%s%d@acme.test", what, f.seq.Add(1)))
}

// token creates a token for uid, as the operator.
func (f *fixture) token(uid string, expires time.Time) string {
	f.t.Helper()
	c, err := apitoken.Create(ctx, f.st, store.Operator("test"), apitoken.NewToken{UserID: uid, ExpiresAt: expires})
	must(f.t, err)
	return c.Secret.Reveal()
}

// do sends a request with the bearer token (none if ""; a value with a
// space is the whole Authorization header), as the web client does:
// Content-Type: application/json always, a body only when there is one.
func (f *fixture) do(method, path, token, body string) (*http.Response, []byte) {
	f.t.Helper()
	resp, b, err := f.send(method, path, token, body)
	must(f.t, err)
	return resp, b
}

// send is do for any goroutine: it returns its error.
func (f *fixture) send(method, path, token, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case strings.Contains(token, " "): // a whole header value ("Basic …")
		req.Header.Set("Authorization", token)
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// snapshot is every row of every table, as text, but the tokens'
// last_used_at (a successful authentication may record a use).
func (f *fixture) snapshot() string {
	f.t.Helper()
	var out strings.Builder
	rows, err := f.st.ReadDB().QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	must(f.t, err)
	var tables []string
	for rows.Next() {
		var n string
		must(f.t, rows.Scan(&n))
		tables = append(tables, n)
	}
	must(f.t, rows.Err())
	must(f.t, rows.Close())
	for _, tbl := range tables {
		r, err := f.st.ReadDB().QueryContext(ctx, `SELECT * FROM "`+tbl+`" ORDER BY rowid`)
		must(f.t, err)
		cols, err := r.Columns()
		must(f.t, err)
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(f.t, r.Scan(ptrs...))
			fmt.Fprintf(&out, "%s:", tbl)
			for i, c := range cols {
				if c != "last_used_at" {
					fmt.Fprintf(&out, " %s=%v", c, vals[i])
				}
			}
			out.WriteByte('\n')
		}
		must(f.t, r.Err())
		must(f.t, r.Close())
	}
	return out.String()
}

// errorBody decodes an error response strictly.
func errorBody(t testing.TB, b []byte) clientError {
	t.Helper()
	var e clientError
	decodeStrict(t, b, &e)
	if e.Error == "" || e.Code == "" {
		t.Errorf("error body %s lacks error or code", b)
	}
	return e
}

// decodeStrict decodes b into v refusing unknown fields, and checks that
// every field v's type does not mark optional (omitempty) is present, and
// that every time is RFC 3339.
func decodeStrict(t testing.TB, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode strictly into the client's %T: %v", b, v, err)
	}
	var raw any
	must(t, json.Unmarshal(b, &raw))
	requireKeys(t, reflect.TypeOf(v).Elem(), raw, "")
}

func requireKeys(t testing.TB, typ reflect.Type, raw any, at string) {
	t.Helper()
	switch typ.Kind() {
	case reflect.Slice:
		arr, ok := raw.([]any)
		if !ok {
			t.Errorf("%s: want a JSON array, got %T", at, raw)
			return
		}
		for i, e := range arr {
			requireKeys(t, typ.Elem(), e, fmt.Sprintf("%s[%d]", at, i))
		}
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("%s: want a JSON object, got %T", at, raw)
			return
		}
		for i := range typ.NumField() {
			fl := typ.Field(i)
			if fl.Anonymous {
				requireKeys(t, fl.Type, raw, at)
				continue
			}
			name, opts, _ := strings.Cut(fl.Tag.Get("json"), ",")
			val, present := obj[name]
			if !present {
				if !strings.Contains(opts, "omitempty") {
					t.Errorf("%s: the client's required field %q is missing", at, name)
				}
				continue
			}
			if val == nil {
				t.Errorf("%s.%s is null: the client's optional fields are absent, never null", at, name)
				continue
			}
			if strings.HasSuffix(name, "At") {
				if s, _ := val.(string); s == "" || !parses(s) {
					t.Errorf("%s.%s = %v: not an RFC 3339 time", at, name, val)
				}
			}
			ft := fl.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct || ft.Kind() == reflect.Slice {
				requireKeys(t, ft, val, at+"."+name)
			}
		}
	}
}

func parses(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// zeroTime is "no expiry".
var zeroTime time.Time

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t testing.TB, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}

// fstestIndex is a built web client of one page.
func fstestIndex() fstest.MapFS {
	return fstest.MapFS{"index.html": {Data: []byte("<!doctype html>index")}}
}
