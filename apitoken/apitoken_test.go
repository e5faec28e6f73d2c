package apitoken_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/apitoken"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

var (
	ctx      = context.Background()
	operator = store.Operator("test")
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// env is a real database with an admin and a member, and a clock the
// test moves.
type env struct {
	st            *store.Store
	path          string
	offset        atomic.Int64
	admin, member db.User
	authn         *apitoken.Authenticator
}

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{path: dbtest.Path(t)}
	st, err := store.Open(ctx, e.path, store.WithClock(func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }))
	must(t, err)
	t.Cleanup(func() { must(t, st.Close()) })
	e.st = st
	e.authn, err = apitoken.NewAuthenticator(ctx, st, nil)
	must(t, err)
	t.Cleanup(func() { must(t, e.authn.Close()) })
	e.admin, err = st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: "admin@acme.test"})
	must(t, err)
	_, err = st.BootstrapAdmin(ctx, operator, e.admin.Email)
	must(t, err)
	e.member, err = st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: "member@acme.test"})
	must(t, err)
	return e
}

func (e *env) auth(tok string) (string, error) {
	r := httptest.NewRequest("GET", "/api/auth/me", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return e.authn.Authenticate(r)
}

func (e *env) tokens(t *testing.T) string {
	t.Helper()
	rows, err := apitoken.List(ctx, e.st)
	must(t, err)
	b, err := json.Marshal(rows)
	must(t, err)
	return string(b)
}

// The token is shown once and never stored: the database file and its
// WAL hold its SHA-256 (which proves the search reads the rows) but not
// the token; the list, its JSON and fmt never show it.
func TestSecretNeverStored(t *testing.T) {
	e := setup(t)
	c, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.admin.ID, Name: "web"})
	must(t, err)
	tok := c.Secret.Reveal()
	if !strings.HasPrefix(tok, apitoken.Scheme) || len(tok) != len(apitoken.Scheme)+43 {
		t.Fatalf("token %d characters", len(tok))
	}
	sum := sha256.Sum256([]byte(tok))
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if !strings.Contains(string(all), hex.EncodeToString(sum[:])) {
		t.Fatal("the token's hash is not in the database files: the search below would prove nothing")
	}
	if strings.Contains(string(all), tok[len(apitoken.Scheme):]) {
		t.Error("the database files contain the token")
	}
	for what, s := range map[string]string{"list": e.tokens(t), "fmt": fmt.Sprintf("%v %+v", c, c)} {
		if strings.Contains(s, tok[len(apitoken.Scheme):]) || strings.Contains(s, hex.EncodeToString(sum[:])) {
			t.Errorf("the %s shows the token or its hash: %s", what, s)
		}
	}
	if uid, err := e.auth(tok); err != nil || uid != e.admin.ID {
		t.Fatalf("Authenticate = %q, %v", uid, err)
	}
}

// Every way a token fails is UNAUTHORIZED, whose text never repeats it.
func TestAuthenticateRefusals(t *testing.T) {
	e := setup(t)
	good, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.member.ID})
	must(t, err)
	revoked, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.admin.ID})
	must(t, err)
	must(t, apitoken.Revoke(ctx, e.st, operator, revoked.Token.ID))
	expiring, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.admin.ID, ExpiresAt: time.Now().Add(time.Minute)})
	must(t, err)
	gone, err := e.st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: "gone@acme.test"})
	must(t, err)
	deleted, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: gone.ID})
	must(t, err)
	if _, err := e.auth(expiring.Secret.Reveal()); err != nil {
		t.Fatalf("the expiring token before its expiry: %v", err)
	}
	must(t, e.st.DeleteUser(ctx, store.ByUser(e.admin.ID), gone.ID, store.DeleteUserOptions{}))
	e.offset.Store(int64(2 * time.Minute))
	g := good.Secret.Reveal()
	changed := g[:len(g)-1] + "A"
	if g[len(g)-1] == 'A' {
		changed = g[:len(g)-1] + "B"
	}
	for name, tok := range map[string]string{
		"none": "", "revoked": revoked.Secret.Reveal(), "expired": expiring.Secret.Reveal(), "user deleted": deleted.Secret.Reveal(),
		"one character changed": changed,
		"truncated":             g[:len(g)-1], "other scheme": "ghp_" + g[len(apitoken.Scheme):], "spaces": "a b",
	} {
		uid, err := e.auth(tok)
		var oe *orgdb.Error
		if uid != "" || !errors.As(err, &oe) || oe.Code != orgdb.CodeUnauthorized {
			t.Errorf("%s: %q, %v; want UNAUTHORIZED", name, uid, err)
			continue
		}
		b, _ := json.Marshal(oe)
		if tok != "" && (strings.Contains(err.Error(), tok) || strings.Contains(string(b), tok)) {
			t.Errorf("%s: the error repeats the token", name)
		}
	}
	if uid, err := e.auth(g); err != nil || uid != e.member.ID {
		t.Errorf("the good token: %q, %v", uid, err)
	}
	// The scheme is case-insensitive (RFC 9110).
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "bearer "+g)
	if uid, err := e.authn.Authenticate(r); err != nil || uid != e.member.ID {
		t.Errorf("lower-case bearer: %q, %v", uid, err)
	}
}

// Only the operator creates tokens; an admin or the operator revokes
// them; a refusal changes nothing and says why.
func TestCreateAndRevokeRules(t *testing.T) {
	e := setup(t)
	before := e.tokens(t)
	for name, c := range map[string]struct {
		by   store.Actor
		in   apitoken.NewToken
		code orgdb.Code
	}{
		"an admin":       {store.ByUser(e.admin.ID), apitoken.NewToken{UserID: e.admin.ID}, orgdb.CodeForbidden},
		"a member":       {store.ByUser(e.member.ID), apitoken.NewToken{UserID: e.member.ID}, orgdb.CodeForbidden},
		"nobody":         {store.Actor{}, apitoken.NewToken{UserID: e.member.ID}, orgdb.CodeUnauthorized},
		"unknown user":   {operator, apitoken.NewToken{UserID: "nobody"}, orgdb.CodeNotFound},
		"no user":        {operator, apitoken.NewToken{}, orgdb.CodeValidation},
		"past expiry":    {operator, apitoken.NewToken{UserID: e.member.ID, ExpiresAt: time.Now().Add(-time.Hour)}, orgdb.CodeValidation},
		"two-line name":  {operator, apitoken.NewToken{UserID: e.member.ID, Name: "a\nb"}, orgdb.CodeValidation},
		"too long name":  {operator, apitoken.NewToken{UserID: e.member.ID, Name: strings.Repeat("n", 201)}, orgdb.CodeValidation},
		"bidi in a name": {operator, apitoken.NewToken{UserID: e.member.ID, Name: "a\u202eb"}, orgdb.CodeValidation},
	} {
		_, err := apitoken.Create(ctx, e.st, c.by, c.in)
		var oe *orgdb.Error
		if !errors.As(err, &oe) || oe.Code != c.code {
			t.Errorf("create by %s: %v, want %s", name, err, c.code)
		}
	}
	if after := e.tokens(t); after != before {
		t.Errorf("refused creations changed the tokens: %s", after)
	}
	c, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.member.ID, Name: "ci"})
	must(t, err)
	before = e.tokens(t)
	err = apitoken.Revoke(ctx, e.st, store.ByUser(e.member.ID), c.Token.ID)
	if !errors.Is(err, store.ErrAdminRequired) {
		t.Errorf("revoke by a member: %v", err)
	}
	if e.tokens(t) != before {
		t.Error("a refused revoke changed the tokens")
	}
	if err := apitoken.Revoke(ctx, e.st, store.ByUser(e.admin.ID), c.Token.ID); err != nil {
		t.Fatalf("revoke by an admin: %v", err)
	}
	err = apitoken.Revoke(ctx, e.st, operator, c.Token.ID)
	if oe := (*orgdb.Error)(nil); !errors.As(err, &oe) || oe.Reason != apitoken.ReasonTokenRevoked {
		t.Errorf("second revoke: %v", err)
	}
	if err := apitoken.Revoke(ctx, e.st, operator, "NOSUCHTOKEN"); !errors.Is(err, orgdb.ErrNotFound) {
		t.Errorf("revoke of an unknown id: %v", err)
	}
	if _, err := e.auth(c.Secret.Reveal()); !errors.Is(err, orgdb.ErrUnauthorized) {
		t.Errorf("a revoked token authenticates: %v", err)
	}
}

// A use is recorded at most once a minute per token, however many
// requests arrive at once: 16 concurrent authentications record one time;
// 30 s later nothing changes; a minute after the first, the new time.
func TestLastUseOncePerMinute(t *testing.T) {
	e := setup(t)
	c, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.admin.ID})
	must(t, err)
	tok := c.Secret.Reveal()
	lastUsed := func() *orgdb.Time {
		t.Helper()
		row, err := store.ReadTxV(ctx, e.st, func(q *db.Queries) (db.APIToken, error) { return q.GetAPIToken(ctx, c.Token.ID) })
		must(t, err)
		return row.LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("a new token has a last use")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := e.auth(tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	first := lastUsed()
	if first == nil {
		t.Fatal("no use recorded")
	}
	e.offset.Store(int64(30 * time.Second))
	_, err = e.auth(tok)
	must(t, err)
	if got := lastUsed(); !got.Equal(first.Time) {
		t.Errorf("a use 30 s later rewrote last_used_at: %v, was %v", got, first)
	}
	e.offset.Store(int64(61 * time.Second))
	_, err = e.auth(tok)
	must(t, err)
	if got := lastUsed(); !got.After(first.Add(time.Minute)) {
		t.Errorf("a use 61 s later: last_used_at %v, was %v", got, first)
	}
}

// A token's row is kept until the next commit, but its expiry is checked
// against the clock on every request: with nothing written in between,
// the token stops working when the clock passes its expiry.
func TestCachedTokenExpires(t *testing.T) {
	e := setup(t)
	tok, err := apitoken.Create(ctx, e.st, operator, apitoken.NewToken{UserID: e.member.ID, ExpiresAt: time.Now().Add(time.Minute)})
	must(t, err)
	s := tok.Secret.Reveal()
	for range 3 { // the first records its use (a commit); the others are served from the kept row
		if uid, err := e.auth(s); err != nil || uid != e.member.ID {
			t.Fatalf("before its expiry: %q, %v", uid, err)
		}
	}
	before, err := e.st.Generation(ctx)
	must(t, err)
	e.offset.Store(int64(time.Minute + time.Millisecond))
	uid, err := e.auth(s)
	var oe *orgdb.Error
	if uid != "" || !errors.As(err, &oe) || oe.Code != orgdb.CodeUnauthorized {
		t.Errorf("past its expiry, nothing written since: %q, %v; want UNAUTHORIZED", uid, err)
	}
	if after, err := e.st.Generation(ctx); err != nil || after != before {
		t.Fatalf("something committed meanwhile (generation %d, then %d, %v): the row was not the kept one", before, after, err)
	}
}
