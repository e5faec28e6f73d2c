package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/litefsrun"
	"github.com/agentops/orgdb/store"
)

// lagWrites is how many writes one lag round times.
const lagWrites = 100

// runLiteFS measures orgdb on two real LiteFS nodes on this machine (make
// bench-litefs): the replication lag, from a write acknowledged on the
// primary to its position reached on the replica, idle and while the
// primary serves the 16-goroutine load; and the replica's read throughput
// under 16 reading goroutines as a ratio to the primary's.
func runLiteFS(dir string, c config) (_ []*figure, _ string, err error) {
	bin, err := litefsrun.Binary()
	if err != nil {
		return nil, "", err
	}
	a, err := litefsrun.NewNode(bin, filepath.Join(dir, "litefs", "node-a"), "node-a")
	if err != nil {
		return nil, "", err
	}
	b, err := litefsrun.NewNode(bin, filepath.Join(dir, "litefs", "node-b"), "node-b")
	if err != nil {
		return nil, "", err
	}
	defer func() { err = errors.Join(err, b.Stop(), a.Stop()) }()
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, n := range []*litefsrun.Node{a, b} {
		if err := n.Start(start, a); err != nil {
			return nil, "", err
		}
	}
	s, err := seed(a.Mnt, 1000)
	if err != nil {
		return nil, "", err
	}
	primary := s.st
	defer primary.Close()
	replica, err := store.Open(ctx, filepath.Join(b.Mnt, filepath.Base(dbFile(primary))), store.WithLiteFS())
	if err != nil {
		return nil, "", err
	}
	defer replica.Close()
	if r := replica.Role(); r.Primary || r.PrimaryHost != "node-a" {
		return nil, "", fmt.Errorf("node-b's role: %+v", r)
	}

	fig := func(name, unit string) *figure { return &figure{part: "litefs", name: name, unit: unit} }
	idle50, idle99 := fig("lag p50 (idle)", "ms"), fig("lag p99 (idle)", "ms")
	load50, load99 := fig("lag p50 (primary under load)", "ms"), fig("lag p99 (primary under load)", "ms")
	readP, readR := fig("reads/s on the primary (16 goroutines)", ""), fig("reads/s on the replica (16 goroutines)", "")
	ratio := fig("replica/primary read throughput", "")

	rounds := max(6, c.rounds/2)
	for i := range rounds {
		lags, err := lagRound(primary, replica, i)
		if err != nil {
			return nil, "", err
		}
		idle50.add(lags[len(lags)/2])
		idle99.add(lags[len(lags)*99/100])
	}
	userID := func(r *rand.Rand) string { return fmt.Sprintf("u%07d", 2+r.IntN(s.n-2)) }
	mixed := loadTarget{read: liteFSReads(primary, s.n), write: func(r *rand.Rand) error {
		id := userID(r)
		return primary.Tx(ctx, benchOperator, store.OperatorOnly, func(q *db.Queries) error {
			u, err := q.GetUser(ctx, id)
			if err != nil {
				return err
			}
			_, err = q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: u.Role, Now: primary.Now(), ID: id})
			return err
		})
	}}
	for i := range rounds {
		var wg sync.WaitGroup
		var res loadResult
		wg.Go(func() { res = runLoadOn(mixed, c.load) })
		lags, err := lagRound(primary, replica, 1000+i)
		wg.Wait()
		if err == nil && (res.other > 0 || res.busy > 0) {
			err = fmt.Errorf("the load on the primary failed %d times: %v", res.busy+res.other, res.firstErr)
		}
		if err != nil {
			return nil, "", err
		}
		load50.add(lags[len(lags)/2])
		load99.add(lags[len(lags)*99/100])
	}

	// Read throughput: the same read mix on each node, interleaved, the
	// ratio taken per round.
	reads := func(st *store.Store) loadTarget {
		r := liteFSReads(st, s.n)
		return loadTarget{read: r, write: r}
	}
	for i := range c.loadRuns {
		var p, r loadResult
		if i%2 == 0 {
			p, r = runLoadOn(reads(primary), c.load), runLoadOn(reads(replica), c.load)
		} else {
			r, p = runLoadOn(reads(replica), c.load), runLoadOn(reads(primary), c.load)
		}
		for _, x := range []loadResult{p, r} {
			if x.busy+x.other > 0 {
				return nil, "", fmt.Errorf("reads failed %d times: %v", x.busy+x.other, x.firstErr)
			}
		}
		ps, rs := float64(p.ops)/p.elapsed.Seconds(), float64(r.ops)/r.elapsed.Seconds()
		readP.add(ps)
		readR.add(rs)
		ratio.add(rs / ps)
	}

	figs := []*figure{idle50, idle99, load50, load99, readP, readR, ratio}
	var md strings.Builder
	md.WriteString("## LiteFS: a primary and a replica on this machine\n\n")
	fmt.Fprintf(&md, "LiteFS %s (tools/litefs/go.mod), static lease, both nodes on loopback. Lag: a write acknowledged "+
		"on the primary (UpdateOrgSettings) until the replica's position reaches the primary's, polled in a tight loop; "+
		"%d writes a round, p50 and p99 per round. \"Under load\": while the primary serves the 16-goroutine load "+
		"(80%% reads, 20%% read-then-write transactions). Read throughput: 16 goroutines reading (GetOrgSettings, GetUser, "+
		"ValidInvite, ListInvites on 1,000 users and invites) on each node, %s a run, interleaved.\n\n",
		liteFSVersion(), lagWrites, c.load)
	markdown(&md, figs)
	return figs, md.String(), nil
}

// lagRound times lagWrites writes from the primary's acknowledgement to
// the replica reaching their position, and returns the lags in ms, sorted.
func lagRound(primary, replica *store.Store, round int) ([]float64, error) {
	var lags []float64
	for i := range lagWrites {
		name := fmt.Sprintf("Acme %d-%d", round, i)
		if _, err := primary.UpdateOrgSettings(ctx, store.ByUser("u0000000"), store.OrgSettingsPatch{Name: &name}); err != nil {
			return nil, err
		}
		t0 := time.Now()
		pos, err := primary.Pos()
		if err != nil {
			return nil, err
		}
		for {
			cur, err := replica.Pos()
			if err != nil {
				return nil, err
			}
			if cur.TXID >= pos.TXID {
				break
			}
			if time.Since(t0) > 10*time.Second {
				return nil, fmt.Errorf("the replica did not reach %s in 10 s (it is at %s)", pos, cur)
			}
		}
		lags = append(lags, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(lags)
	return lags, nil
}

// liteFSReads is the read mix of the load on st.
func liteFSReads(st *store.Store, n int) func(r *rand.Rand) error {
	return func(r *rand.Rand) error {
		switch r.IntN(4) {
		case 0:
			_, err := st.GetOrgSettings(ctx)
			return err
		case 1:
			_, err := st.GetUser(ctx, fmt.Sprintf("u%07d", 2+r.IntN(n-2)))
			return err
		case 2:
			_, err := st.ValidInvite(ctx, fmt.Sprintf("inv%07d@acme.test", r.IntN(n)))
			return err
		default:
			_, err := st.ListInvites(ctx, store.ListInvitesOptions{Limit: 20})
			return err
		}
	}
}

// liteFSVersion is the LiteFS version pinned in tools/litefs/go.mod.
func liteFSVersion() string {
	b, err := os.ReadFile("../tools/litefs/go.mod")
	if err != nil {
		return "(version unknown)"
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/superfly/litefs" {
			return f[1]
		}
	}
	return "(version unknown)"
}
