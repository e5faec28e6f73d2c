package store_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// clock is a settable clock for a store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCreateInvite(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st := dbtest.New(t, store.WithClock(c.now))
	admin := signup(t, st, "ada@acme.test")
	member := signup(t, st, "bob@acme.test")

	inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "  Carol@ACME.test "})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "carol@acme.test" || inv.Role != orgdb.RoleMember || inv.InvitedBy != admin.ID || inv.AcceptedAt != nil ||
		!inv.ExpiresAt.Equal(c.t.Add(7*24*time.Hour)) || !inv.CreatedAt.Equal(c.t) {
		t.Errorf("invite = %+v", inv)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{26}$`).MatchString(inv.ID) {
		t.Errorf("invite id %q is not 26 URL-safe characters", inv.ID)
	}

	// Re-inviting refreshes: one row, new id, role and expiry.
	c.t = c.t.Add(10 * 24 * time.Hour) // the first invite has expired
	again, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "carol@acme.test", Role: orgdb.RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == inv.ID || again.Role != orgdb.RoleAdmin || !again.ExpiresAt.Equal(c.t.Add(time.Hour)) {
		t.Errorf("refreshed invite = %+v", again)
	}
	if n := countRows(t, st, "invites"); n != 1 {
		t.Errorf("%d invites after re-inviting, want 1", n)
	}

	before := dbtest.Snapshot(t, st.DB())
	_, err = st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "BOB@acme.test"})
	wantErr(t, err, orgdb.CodeConflict, store.ReasonUserExists)
	if want := "bob@acme.test is already a member of the organization"; err == nil || err.Error() != want {
		t.Errorf("inviting a member: %v, want %q", err, want)
	}
	// An admin is told they are an admin, not a member.
	_, err = st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: admin.Email, Role: orgdb.RoleAdmin})
	wantErr(t, err, orgdb.CodeConflict, store.ReasonUserExists)
	if want := admin.Email + " is already an admin of the organization"; err == nil || err.Error() != want {
		t.Errorf("inviting an admin: %v, want %q", err, want)
	}
	_, err = st.CreateInvite(ctx, store.ByUser(member.ID), store.NewInvite{Email: "dan@acme.test"})
	wantErr(t, err, orgdb.CodeForbidden, "admin_required")
	_, err = st.CreateInvite(ctx, store.ByUser("ghost"), store.NewInvite{Email: "dan@acme.test"})
	wantErr(t, err, orgdb.CodeUnauthorized, "")
	_, err = st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "dan@acme.test", TTL: -time.Hour})
	wantErr(t, err, orgdb.CodeValidation, "")
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("refused invites changed the database")
	}

	// The store's default TTL is configurable.
	st2 := dbtest.New(t, store.WithClock(c.now), store.WithInviteTTL(48*time.Hour))
	a2 := signup(t, st2, "ada@acme.test")
	if inv, err := st2.CreateInvite(ctx, store.ByUser(a2.ID), store.NewInvite{Email: "x@acme.test"}); err != nil || !inv.ExpiresAt.Equal(c.t.Add(48*time.Hour)) {
		t.Errorf("invite with a 48h default TTL = %+v, %v", inv, err)
	}
}

func TestInviteLifecycle(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st := dbtest.New(t, store.WithClock(c.now))
	admin := signup(t, st, "ada@acme.test")
	mk := func(email string, ttl time.Duration) string {
		inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: email, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Second) // distinct created_at
		return inv.ID
	}
	short := mk("short@acme.test", time.Hour)
	accepted := mk("accepted@acme.test", 0)
	pending := mk("pending@acme.test", 0)

	if _, err := st.AcceptInvite(ctx, operator, accepted); err != nil {
		t.Fatal(err)
	}
	_, err := st.AcceptInvite(ctx, operator, accepted)
	wantErr(t, err, orgdb.CodeConflict, store.ReasonInviteAccepted)
	if !errors.Is(err, store.ErrInviteAccepted) || errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("accepted-twice error = %v", err)
	}

	c.t = c.t.Add(2 * time.Hour) // short has expired
	_, err = st.AcceptInvite(ctx, operator, short)
	if !errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("accepting an expired invite: %v", err)
	}
	_, err = st.AcceptInvite(ctx, operator, "nope")
	wantErr(t, err, orgdb.CodeNotFound, "")

	// Only a valid invite is found by email, in any case.
	if inv, err := st.ValidInvite(ctx, "PENDING@acme.test"); err != nil || inv.ID != pending {
		t.Errorf("ValidInvite(pending) = %+v, %v", inv, err)
	}
	for _, e := range []string{"short@acme.test", "accepted@acme.test", "nobody@acme.test"} {
		if _, err := st.ValidInvite(ctx, e); !errors.Is(err, orgdb.ErrNotFound) {
			t.Errorf("ValidInvite(%s): %v", e, err)
		}
	}

	// Newest first, with the status derived in SQL.
	list, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, inv := range list {
		got = append(got, inv.Email+"="+string(inv.Status))
	}
	want := "pending@acme.test=pending accepted@acme.test=accepted short@acme.test=expired"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("ListInvites = %s\nwant          %s", s, want)
	}

	if n, err := st.DeleteExpiredInvites(ctx, operator); err != nil || n != 1 {
		t.Errorf("DeleteExpiredInvites = %d, %v", n, err)
	}
	if err := st.DeleteInvite(ctx, asAdmin(t, st), pending); err != nil {
		t.Fatal(err)
	}
	wantErr(t, st.DeleteInvite(ctx, asAdmin(t, st), pending), orgdb.CodeNotFound, "")
	wantErr(t, st.DeleteInvite(ctx, asAdmin(t, st), ""), orgdb.CodeValidation, "")
	if n := countRows(t, st, "invites"); n != 1 {
		t.Errorf("%d invites left, want the accepted one", n)
	}
}

// countRows counts a table's rows with raw SQL.
func countRows(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Pages cover every invite once, newest first, also when invites share a
// created_at (ties are ordered by id).
func TestListInvitesPages(t *testing.T) {
	t.Parallel()
	c := &clock{time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	st := dbtest.New(t, store.WithClock(c.now))
	admin := signup(t, st, "ada@acme.test")
	for i := range 7 {
		if i == 4 {
			c.t = c.t.Add(time.Second)
		}
		if _, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: fmt.Sprintf("u%d@acme.test", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var pages []int
	opts := store.ListInvitesOptions{Limit: 3}
	for {
		page, err := st.ListInvites(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page))
		for _, inv := range page {
			seen = append(seen, inv.Email)
		}
		if len(page) < 3 {
			break
		}
		last := page[len(page)-1]
		opts = store.ListInvitesOptions{Limit: 3, BeforeCreatedAt: last.CreatedAt, BeforeID: last.ID}
	}
	if !slices.Equal(pages, []int{3, 3, 1, 0}[:len(pages)]) || len(seen) != 7 {
		t.Fatalf("pages %v, seen %v", pages, seen)
	}
	slices.Sort(seen)
	if !slices.Equal(slices.Compact(slices.Clone(seen)), seen) {
		t.Errorf("an invite listed twice: %v", seen)
	}
	all, err := st.ListInvites(ctx, store.ListInvitesOptions{})
	must(t, err)
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.CreatedAt.Before(b.CreatedAt.Time) || a.CreatedAt.Equal(b.CreatedAt.Time) && a.ID < b.ID {
			t.Errorf("not newest first: %v %s before %v %s", a.CreatedAt, a.ID, b.CreatedAt, b.ID)
		}
	}
	for _, bad := range []int{-1, store.MaxInvitePage + 1} {
		_, err := st.ListInvites(ctx, store.ListInvitesOptions{Limit: bad})
		wantErr(t, err, orgdb.CodeValidation, "")
	}
}
