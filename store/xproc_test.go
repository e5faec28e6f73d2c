package store_test

// Cross-process tests: the invariants that the race tests prove between
// goroutines must also hold between processes on one file (two service
// instances, the CLI beside the service), where the store's one-connection
// writer pool no longer serialises anything and only SQLite's locks do.
//
// Each test starts several copies of this test binary (re-executed with
// xprocEnv set, see TestMain), lets each open its own store, releases them
// at once through their standard input, and then checks the file.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// xprocEnv, when set, makes the test binary a child: it runs one action
// (open, signup, demote, accept) on the database and exits.
const xprocEnv = "ORGDB_XPROC_CHILD"

const (
	xprocs      = 6 // processes per trial
	xprocTrials = 3
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(xprocEnv); spec != "" {
		os.Exit(xprocChild(spec))
	}
	os.Exit(m.Run())
}

// xprocChild runs one child: spec is "action path arg". It prints "ready"
// once its store is open (for open: before opening), waits for a line on
// stdin, acts, and prints "ok", "refused CODE" (a typed refusal, exit 0) or
// "error MESSAGE" (anything else, exit 1).
func xprocChild(spec string) int {
	action, rest, _ := strings.Cut(spec, " ")
	path, arg, _ := strings.Cut(rest, " ")
	ctx := context.Background()
	wait, report := dbtest.Ready, dbtest.Report
	if action == "open" {
		wait()
		st, err := store.Open(ctx, path)
		if err == nil {
			err = st.Close()
		}
		return report(err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer st.Close()
	wait()
	switch action {
	case "signup":
		_, err = st.CreateUser(ctx, store.NewUser{Email: arg})
	case "demote":
		_, err = st.UpdateUserRole(ctx, store.ByUser(arg), arg, orgdb.RoleMember) // an admin steps down
	case "accept":
		_, err = st.AcceptInvite(ctx, operator, arg)
	default:
		err = fmt.Errorf("unknown action %q", action)
	}
	return report(err)
}

// xprocRun starts one child per arg, all running action on path, releases
// them together once every one is ready, and returns what each reported
// (dbtest.Children).
func xprocRun(t *testing.T, action, path string, args []string) []string {
	t.Helper()
	specs := make([]string, len(args))
	for i, arg := range args {
		specs[i] = action + " " + path + " " + arg
	}
	return dbtest.Children(t, xprocEnv, specs)
}

// tally counts the children's reports by kind; an "error" report (an
// untyped failure such as SQLITE_BUSY) fails the test.
func tally(t *testing.T, reports []string) (ok int, refused map[string]int) {
	t.Helper()
	refused = map[string]int{}
	for _, r := range reports {
		switch kind, code, _ := strings.Cut(r, " "); kind {
		case "ok":
			ok++
		case "refused":
			refused[code]++
		default:
			t.Fatalf("a process failed with an untyped error: %s (all: %q)", r, reports)
		}
	}
	return ok, refused
}

// count runs a COUNT query on the file through a connection of its own.
func count(t *testing.T, path, query string, args ...any) int {
	t.Helper()
	d := dbtest.Raw(t, path)
	var n int
	if err := d.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// prepared returns a migrated database file with setup applied through a
// store that is closed again before the children start.
func prepared(t *testing.T, setup func(st *store.Store)) string {
	t.Helper()
	path := dbtest.Path(t)
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	setup(st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestXprocFirstOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	for trial := range xprocTrials {
		path := dbtest.Path(t)
		ok, _ := tally(t, xprocRun(t, "open", path, repeat(xprocs, "-")))
		if ok != xprocs {
			t.Fatalf("trial %d: %d of %d processes opened the new file", trial, ok, xprocs)
		}
		st, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if n := count(t, path, `SELECT COUNT(*) - COUNT(DISTINCT version) FROM schema_migrations`); n != 0 {
			t.Fatalf("trial %d: %d migrations recorded twice", trial, n)
		}
	}
}

func TestXprocFirstSignupsYieldOneAdmin(t *testing.T) {
	t.Parallel()
	for trial := range xprocTrials {
		path := prepared(t, func(*store.Store) {})
		emails := make([]string, xprocs)
		for i := range emails {
			emails[i] = fmt.Sprintf("user%d@acme.test", i)
		}
		ok, _ := tally(t, xprocRun(t, "signup", path, emails))
		if ok != xprocs {
			t.Fatalf("trial %d: %d of %d sign-ups succeeded", trial, ok, xprocs)
		}
		if n := count(t, path, `SELECT COUNT(*) FROM users WHERE role = 'admin'`); n != 1 {
			t.Fatalf("trial %d: %d admins from %d simultaneous first sign-ups in %d processes", trial, n, xprocs, xprocs)
		}
	}
}

// Every admin steps down at once, each in its own process: one stays.
func TestXprocAdminsDemotingEachOther(t *testing.T) {
	t.Parallel()
	for trial := range xprocTrials {
		var ids []string
		path := prepared(t, func(st *store.Store) {
			for i := range xprocs {
				ctx := context.Background()
				u, err := st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("admin%d@acme.test", i)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := st.UpdateUserRole(ctx, asAdmin(t, st), u.ID, orgdb.RoleAdmin); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.ID)
			}
		})
		ok, refused := tally(t, xprocRun(t, "demote", path, ids))
		if ok != xprocs-1 || refused[string(orgdb.CodeConflict)] != 1 {
			t.Fatalf("trial %d: %d demotions, refusals %v; want %d and one CONFLICT", trial, ok, refused, xprocs-1)
		}
		if n := count(t, path, `SELECT COUNT(*) FROM users WHERE role = 'admin'`); n != 1 {
			t.Fatalf("trial %d: %d admins left after mutual demotion", trial, n)
		}
	}
}

func TestXprocInviteAcceptedOnce(t *testing.T) {
	t.Parallel()
	for trial := range xprocTrials {
		var id string
		path := prepared(t, func(st *store.Store) {
			ctx := context.Background()
			admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"})
			if err != nil {
				t.Fatal(err)
			}
			inv, err := st.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: "new@acme.test"})
			if err != nil {
				t.Fatal(err)
			}
			id = inv.ID
		})
		ok, refused := tally(t, xprocRun(t, "accept", path, repeat(xprocs, id)))
		if ok != 1 || refused[string(orgdb.CodeConflict)] != xprocs-1 {
			t.Fatalf("trial %d: %d acceptances, refusals %v; want 1 and %d CONFLICT", trial, ok, refused, xprocs-1)
		}
		if n := count(t, path, `SELECT COUNT(*) FROM invites WHERE accepted_at IS NOT NULL`); n != 1 {
			t.Fatalf("trial %d: %d invites accepted", trial, n)
		}
	}
}
