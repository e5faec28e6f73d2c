package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// The list commands' --json prints a JSON array of exactly the objects the
// store serves (its view types), with camelCase keys and no secret.
func TestListJSON(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	orgKey(t, env)
	ctx := context.Background()
	st, err := store.Open(ctx, env["ORGDB_DB"], store.ReadOnlyAtRest())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	users, err := st.ListUsers(ctx, store.ListUsersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	invites, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.ListOrgAPIKeyViews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sealed := dbtest.Strings(t, dbtest.Raw(t, env["ORGDB_DB"]), `SELECT encrypted_key FROM org_api_keys`)
	if len(users) != 2 || len(invites) != 1 || len(keys) != 1 || len(sealed) != 1 {
		t.Fatalf("fixture: %d users, %d invites, %d keys", len(users), len(invites), len(keys))
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z]*$`)
	for _, c := range []struct {
		args []string
		want any // the store's values
	}{
		{[]string{"users", "list", "--json"}, users},
		{[]string{"invites", "list", "--json"}, invites},
		{[]string{"keys", "list", "--json"}, keys},
	} {
		code, out, errs := cli(t, env, c.args...)
		if code != 0 || errs != "" {
			t.Fatalf("orgdb %s: exit %d: %s", strings.Join(c.args, " "), code, errs)
		}
		got := reflect.New(reflect.TypeOf(c.want))
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(got.Interface()); err != nil {
			t.Fatalf("orgdb %s: not a JSON array of %T: %v\n%s", strings.Join(c.args, " "), c.want, err, out)
		}
		if !reflect.DeepEqual(got.Elem().Interface(), c.want) {
			t.Errorf("orgdb %s: %s\nwant the store's %+v", strings.Join(c.args, " "), out, c.want)
		}
		var objs []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &objs); err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			for k := range o {
				if !camel.MatchString(k) {
					t.Errorf("orgdb %s: key %q is not camelCase", strings.Join(c.args, " "), k)
				}
			}
		}
		if strings.Contains(out, "sk-fixture") || strings.Contains(out, sealed[0]) {
			t.Errorf("orgdb %s prints a key:\n%s", strings.Join(c.args, " "), out)
		}
	}
	var _ []db.User = users // the service's user type
}
