package httpapi_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// GET /api/admin/users is built by SQLite (ListUsersJSON); it must say
// exactly what json.Marshal of the users says: the same keys (db.User's
// tags, optional ones absent when NULL), the same values, times the same
// instants, in the same order. The users carry every optional field set
// and unset, and times in orgdb's layout with and without a fraction and
// in other layouts other writers leave.
func TestUsersJSON(t *testing.T) {
	f := newFixture(t)
	name, avatar, gh, ghu := "Ada \"Lovelace\" <a&b> é", "https://x.test/a.png?x=1&y=2", "12345", "ada-l"
	_, err := f.st.CreateUserBypassingPolicy(ctx, store.Operator("test"), store.NewUser{Email: "full@acme.test", Name: &name, AvatarURL: &avatar, GithubID: &gh, GithubUsername: &ghu})
	must(t, err)
	for i, ts := range []string{"2020-01-02 03:04:05", "2020-01-02 03:04:05.123456789", "2020-01-02T03:04:05Z", "2021-03-04T05:06:07+02:00", "2020-01-02 03:04:05.120"} {
		u := f.fresh("t")
		if _, err := f.st.DB().ExecContext(ctx, `UPDATE users SET created_at = ?, updated_at = ? WHERE id = ?`, ts, ts, u.ID); err != nil {
			t.Fatal(i, err)
		}
	}
	var want []db.User
	for u, err := range f.st.AllUsers(ctx) {
		must(t, err)
		want = append(want, u)
	}
	wb, err := json.Marshal(want)
	must(t, err)
	resp, got := f.do("GET", "/api/admin/users", f.tokens["admin"], "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	var w, g []map[string]any
	must(t, json.Unmarshal(wb, &w))
	must(t, json.Unmarshal(got, &g))
	if len(g) != len(w) {
		t.Fatalf("%d users, want %d", len(g), len(w))
	}
	for i := range w {
		for k, wv := range w[i] {
			gv, ok := g[i][k]
			if !ok {
				t.Errorf("user %d: key %q missing (%v)", i, k, g[i])
				continue
			}
			if ws, isStr := wv.(string); isStr && (k == "createdAt" || k == "updatedAt") {
				wt, err1 := time.Parse(time.RFC3339Nano, ws)
				gt, err2 := time.Parse(time.RFC3339Nano, gv.(string))
				if err1 != nil || err2 != nil || wt.Sub(gt).Abs() >= time.Millisecond {
					t.Errorf("user %d: %s %v, want %v", i, k, gv, wv)
				}
				continue
			}
			if !reflect.DeepEqual(gv, wv) {
				t.Errorf("user %d: %s = %#v, want %#v", i, k, gv, wv)
			}
		}
		for k := range g[i] {
			if _, ok := w[i][k]; !ok {
				t.Errorf("user %d: extra key %q", i, k)
			}
		}
	}
	// orgdb's own layout gives Go's text exactly.
	if g[0]["createdAt"] != w[0]["createdAt"] {
		t.Errorf("createdAt %v, want Go's %v", g[0]["createdAt"], w[0]["createdAt"])
	}
}
