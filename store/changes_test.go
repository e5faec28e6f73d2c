package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Generation stays the same while nothing commits (reads included) and
// changes after a commit by the store's writer and by another store's
// connection on the same file; a Cached value is read again exactly then.
// (cmd/orgdb's TestServeSeesOtherProcessesWritesAtOnce does it across
// processes.)
func TestGenerationAndCached(t *testing.T) {
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	must(t, err)
	closeStore(t, st)
	other, err := store.Open(ctx, path)
	must(t, err)
	closeStore(t, other)
	_, err = st.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"}) // the first user: an admin
	must(t, err)
	admin := asAdmin(t, st)

	var reads atomic.Int64
	name := store.NewCached(st, func(ctx context.Context) (string, error) {
		reads.Add(1)
		o, err := st.GetOrgSettings(ctx)
		return o.Name, err
	})
	gen := func() uint64 {
		t.Helper()
		g, err := st.Generation(ctx)
		must(t, err)
		return g
	}
	get := func(want string, wantReads int64) {
		t.Helper()
		got, err := name.Get(ctx)
		must(t, err)
		if got != want || reads.Load() != wantReads {
			t.Fatalf("Get: %q after %d reads, want %q after %d", got, reads.Load(), want, wantReads)
		}
	}
	g1 := gen()
	get("My Organization", 1)
	_, err = st.GetOrgSettings(ctx)
	must(t, err)
	if g := gen(); g != g1 {
		t.Fatalf("generation %d after reads only, was %d", g, g1)
	}
	get("My Organization", 1) // kept

	rename := func(s *store.Store, to string) {
		t.Helper()
		_, err := s.UpdateOrgSettings(ctx, admin, store.OrgSettingsPatch{Name: &to})
		must(t, err)
	}
	rename(st, "By the writer")
	g2 := gen()
	if g2 == g1 {
		t.Fatal("the store's own commit did not change the generation")
	}
	get("By the writer", 2)
	get("By the writer", 2)
	rename(other, "By another connection")
	if gen() == g2 {
		t.Fatal("another store's commit did not change the generation")
	}
	get("By another connection", 3)

	// In one unit of work the generation is read once: a commit after it
	// is not seen there, and is by the next.
	unit := store.WithOneGeneration(ctx, st)
	u1, err := st.Generation(unit)
	must(t, err)
	rename(other, "During the unit")
	if u2, err := st.Generation(unit); err != nil || u2 != u1 {
		t.Fatalf("within the unit: %d, %v; want %d", u2, err, u1)
	}
	if g := gen(); g == u1 {
		t.Fatal("outside the unit the commit is not seen")
	}

	// Many goroutines: every Get after a commit returns its value.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := name.Get(ctx); err != nil {
					t.Error(err)
					return
				}
			}
			if i == 0 {
				rename(other, "Concurrent")
			}
		})
	}
	wg.Wait()
	// The other goroutines may all have finished before the rename, so
	// the next Get reads at most once more, and the one after it not at
	// all.
	before := reads.Load()
	got, err := name.Get(ctx)
	must(t, err)
	if got != "Concurrent" || reads.Load() > before+1 {
		t.Fatalf("Get after the concurrent rename: %q after %d reads, want \"Concurrent\" after at most %d", got, reads.Load(), before+1)
	}
	get("Concurrent", reads.Load())

	must(t, st.Close())
	if _, err := st.Generation(ctx); err == nil {
		t.Error("Generation after Close: no error")
	}
}

// BenchmarkGeneration is the cost of the check a cached read makes: one
// PRAGMA data_version on the pinned connection.
func BenchmarkGeneration(b *testing.B) {
	st, err := store.Open(ctx, dbtest.Path(b))
	must(b, err)
	closeStore(b, st)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Generation(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
