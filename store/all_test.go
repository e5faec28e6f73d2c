package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// AllUsers and AllInvites yield every row across pages, in the order of
// their List method, stop when the loop breaks, and yield a failure once.
func TestAllRows(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	n := store.DefaultUserPage*2 + 1 // three pages, the last of one row
	var emails, invited []string
	now := st.Now()
	inTx(t, st, func(q *db.Queries) error {
		for i := range n {
			u, err := q.InsertUser(ctx, db.InsertUserParams{ID: fmt.Sprintf("u%03d", i), Email: fmt.Sprintf("u%03d@acme.test", i), Role: orgdb.RoleAdmin})
			if err != nil {
				return err
			}
			emails = append(emails, u.Email)
			inv, err := q.UpsertInvite(ctx, db.UpsertInviteParams{
				ID: fmt.Sprintf("i%03d", i), Email: fmt.Sprintf("i%03d@acme.test", i), Role: orgdb.RoleMember, InvitedBy: u.ID,
				ExpiresAt: now, CreatedAt: now,
			})
			if err != nil {
				return err
			}
			invited = append(invited, inv.Email)
		}
		return nil
	})
	var got []string
	for u, err := range st.AllUsers(ctx) {
		must(t, err)
		got = append(got, u.Email)
	}
	if !slices.Equal(got, emails) {
		t.Errorf("AllUsers yielded %d users, want the %d in order", len(got), len(emails))
	}
	// The invites share one created_at: newest first is then by id, descending.
	got = nil
	for inv, err := range st.AllInvites(ctx) {
		must(t, err)
		got = append(got, inv.Email)
	}
	slices.Reverse(invited)
	if !slices.Equal(got, invited) {
		t.Errorf("AllInvites yielded %d invites, want the %d newest first", len(got), len(invited))
	}
	// Breaking out of the loop stops it.
	seen := 0
	for _, err := range st.AllUsers(ctx) {
		must(t, err)
		if seen++; seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Errorf("the loop ran %d times", seen)
	}
	// A failure is yielded once, then the sequence ends.
	must(t, st.Close())
	fails := 0
	for u, err := range st.AllUsers(ctx) {
		if err == nil || u.ID != "" {
			t.Errorf("a closed store yielded %+v, %v", u, err)
		}
		fails++
	}
	if fails != 1 {
		t.Errorf("a closed store yielded %d times, want 1 error", fails)
	}
}
