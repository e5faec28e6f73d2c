package store_test

// Race tests: many goroutines against one WAL database file, repeated over
// several trials. Each invariant must hold in every trial, and every error
// a caller sees must be the typed refusal, never SQLITE_BUSY. Run under
// go test -race (make test does).

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

const (
	trials     = 10
	goroutines = 16
)

// together runs f(i) for i in [0,n) in goroutines released at once and
// returns their errors.
func together(n int, f func(i int) error) []error {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// noBusy fails the test on any error that is not an orgdb refusal.
func noBusy(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		var e *orgdb.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("untyped error reached the caller: %v", err)
		}
	}
}

func TestRaceFirstSignupsYieldOneAdmin(t *testing.T) {
	t.Parallel()
	for trial := range trials {
		st := dbtest.New(t)
		errs := together(goroutines, func(i int) error {
			_, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("user%d@acme.test", i)})
			return err
		})
		noBusy(t, errs)
		for _, err := range errs {
			if err != nil {
				t.Fatalf("trial %d: sign-up failed: %v", trial, err)
			}
		}
		if n, err := st.CountAdmins(ctx); err != nil || n != 1 {
			t.Fatalf("trial %d: %d admins from %d simultaneous first sign-ups", trial, n, goroutines)
		}
	}
}

func TestRaceSameEmailSignsUpOnce(t *testing.T) {
	t.Parallel()
	for trial := range trials {
		st := dbtest.New(t)
		errs := together(goroutines, func(i int) error {
			_, err := st.CreateUser(ctx, store.NewUser{Email: "Same@acme.test"})
			return err
		})
		noBusy(t, errs)
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if e := (*orgdb.Error)(nil); !errors.As(err, &e) || e.Reason != store.ReasonUserExists {
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
		if n, err := st.CountUsers(ctx); err != nil || ok != 1 || n != 1 {
			t.Fatalf("trial %d: %d sign-ups succeeded, %d users", trial, ok, n)
		}
	}
}

func TestRaceAdminsDemotingEachOther(t *testing.T) {
	t.Parallel()
	for trial := range trials * 2 {
		st := dbtest.New(t)
		a := signup(t, st, "a@acme.test")
		b := signup(t, st, "b@acme.test")
		if _, err := st.UpdateUserRole(ctx, store.ByUser(a.ID), b.ID, orgdb.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		ids := []string{a.ID, b.ID}
		// a demotes b and b demotes a, many times at once: the first
		// demotion wins; the demoted admin's own demotions are refused.
		errs := together(goroutines, func(i int) error {
			_, err := st.UpdateUserRole(ctx, store.ByUser(ids[(i+1)%2]), ids[i%2], orgdb.RoleMember)
			return err
		})
		noBusy(t, errs)
		for _, err := range errs {
			if err != nil && !errors.Is(err, store.ErrLastAdmin) && !errors.Is(err, store.ErrAdminRequired) {
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
		if n, err := st.CountAdmins(ctx); err != nil || n != 1 {
			t.Fatalf("trial %d: %d admins left after mutual demotion, want 1", trial, n)
		}
	}
}

func TestRaceInviteAcceptedOnce(t *testing.T) {
	t.Parallel()
	for trial := range trials {
		st := dbtest.New(t)
		admin := signup(t, st, "ada@acme.test")
		inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "bob@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		errs := together(goroutines, func(int) error {
			_, err := st.AcceptInvite(ctx, operator, inv.ID)
			return err
		})
		noBusy(t, errs)
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrInviteAccepted):
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
		if ok != 1 {
			t.Fatalf("trial %d: invite accepted %d times", trial, ok)
		}
	}
}

// Sign-ups racing for one invite: the invite is consumed once, and only the
// user created with it gets its role.
func TestRaceInvitedSignups(t *testing.T) {
	t.Parallel()
	for trial := range trials {
		st := dbtest.New(t)
		admin := signup(t, st, "ada@acme.test")
		if _, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "bob@acme.test", Role: orgdb.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		errs := together(goroutines, func(i int) error {
			if i%2 == 1 { // uninvited, let in by the operator
				_, err := st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: fmt.Sprintf("other%d@acme.test", i)})
				return err
			}
			_, err := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
			return err
		})
		noBusy(t, errs)
		if n, err := st.CountAdmins(ctx); err != nil || n != 2 {
			t.Fatalf("trial %d: %d admins, want ada and bob", trial, n)
		}
		if u, err := st.GetUserByEmail(ctx, "other1@acme.test"); err != nil || u.Role != orgdb.RoleMember {
			t.Fatalf("trial %d: uninvited user = %+v, %v", trial, u, err)
		}
	}
}
