package main

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

const (
	loadWorkers = 16
	loadMaxOps  = 5_000_000 // the run also stops after this many operations
)

// loadResult is one load run.
type loadResult struct {
	ops, busy, other int
	elapsed          time.Duration
	p99              time.Duration
	firstErr         error
}

// loadTarget is what a load run calls: a read, or a read-then-write
// transaction.
type loadTarget struct {
	read  func(r *rand.Rand) error
	write func(r *rand.Rand) error
}

// runLoadOn runs 16 workers for d: 80% reads, 20% read-then-write
// transactions.
func runLoadOn(t loadTarget, d time.Duration) loadResult {
	var mu sync.Mutex
	var res loadResult
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			var mine []time.Duration
			var ops, busy, other int
			var first error
			for time.Now().Before(deadline) && ops < loadMaxOps/loadWorkers {
				t0 := time.Now()
				var err error
				if r.IntN(100) < 80 {
					err = t.read(r)
				} else {
					err = t.write(r)
				}
				mine = append(mine, time.Since(t0))
				ops++
				var se sqlite3.Error
				switch {
				case err == nil:
				case errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked):
					busy++
				default:
					other++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			res.ops += ops
			res.busy += busy
			res.other += other
			if res.firstErr == nil {
				res.firstErr = first
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p99 = lat[len(lat)*99/100]
	}
	return res
}

// runLoad compares orgdb's Open against a naive pool on the same file.
func runLoad(dir string, d time.Duration) (string, error) {
	s, err := seed(dir, 1000)
	if err != nil {
		return "", err
	}
	defer s.st.Close()
	st := s.st
	userID := func(r *rand.Rand) string { return fmt.Sprintf("u%07d", 2+r.IntN(s.n-2)) }
	email := func(r *rand.Rand) string { return fmt.Sprintf("inv%07d@acme.test", r.IntN(s.n)) }

	orgdbRun := runLoadOn(loadTarget{
		read: func(r *rand.Rand) error {
			switch r.IntN(4) {
			case 0:
				_, err := st.GetOrgSettings(ctx)
				return err
			case 1:
				_, err := st.GetUser(ctx, userID(r))
				return err
			case 2:
				_, err := st.ValidInvite(ctx, email(r))
				return err
			default:
				_, err := st.ListInvites(ctx, store.ListInvitesOptions{Limit: 20})
				return err
			}
		},
		write: func(r *rand.Rand) error {
			id := userID(r)
			return st.Tx(ctx, func(q *db.Queries) error {
				u, err := q.GetUser(ctx, id)
				if err != nil {
					return err
				}
				_, err = q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: u.Role, Now: st.Now(), ID: id})
				return err
			})
		},
	}, d)

	// The naive setup: no busy timeout, deferred transactions, one shared
	// pool, no prepared statements.
	naive, err := sql.Open("sqlite3", "file:"+dbFile(st)+"?_journal_mode=WAL&_busy_timeout=0&_foreign_keys=on")
	if err != nil {
		return "", err
	}
	defer naive.Close()
	naiveRun := runLoadOn(loadTarget{
		read: func(r *rand.Rand) error {
			var n string
			switch r.IntN(3) {
			case 0:
				return naive.QueryRowContext(ctx, `SELECT name FROM org_settings WHERE id = 'default'`).Scan(&n)
			case 1:
				return naive.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID(r)).Scan(&n)
			default:
				return naive.QueryRowContext(ctx, `SELECT id FROM invites WHERE email = ?`, email(r)).Scan(&n)
			}
		},
		write: func(r *rand.Rand) error {
			id := userID(r)
			tx, err := naive.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var role string
			if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, id).Scan(&role); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = datetime('now') WHERE id = ?`, role, id); err != nil {
				return err
			}
			return tx.Commit()
		},
	}, d)

	var md strings.Builder
	fmt.Fprintf(&md, "## Load (%d goroutines, 80%% reads / 20%% read-then-write transactions, %s each)\n\n"+
		"| setup | ops/s | busy errors | other errors | p99 ms | targets |\n|---|---|---|---|---|---|\n", loadWorkers, d)
	for _, l := range []struct {
		name string
		r    loadResult
	}{{"orgdb (store.Open)", orgdbRun}, {"naive DSN (_busy_timeout=0, deferred, one pool)", naiveRun}} {
		p99 := float64(l.r.p99.Microseconds()) / 1000
		opsPerS := float64(l.r.ops) / l.r.elapsed.Seconds()
		prefix := "LOAD"
		if l.name != "orgdb (store.Open)" {
			prefix = "LOAD naive"
		}
		fmt.Printf("%s ops/s=%.0f busy_errors=%d p99_ms=%.2f\n", prefix, opsPerS, l.r.busy, p99)
		if l.r.firstErr != nil {
			fmt.Fprintf(os.Stderr, "%s: %d other errors, first: %v\n", l.name, l.r.other, l.r.firstErr)
		}
		verdict := "met"
		if l.r.busy > 0 || p99 > 10 || l.r.other > 0 {
			verdict = "MISSED"
		}
		if prefix != "LOAD" {
			verdict = "for comparison"
		}
		fmt.Fprintf(&md, "| %s | %.0f | %d | %d | %.2f | %s |\n", l.name, opsPerS, l.r.busy, l.r.other, p99, verdict)
	}
	md.WriteString("\nTargets for orgdb: no busy errors and p99 ≤ 10 ms. The naive run's ops/s counts its failures: " +
		"without a busy timeout they fail at once instead of waiting.\n\n")
	return md.String(), nil
}

// dbFile is the path of the store's database file.
func dbFile(st *store.Store) string {
	var seq int
	var name, file string
	st.DB().QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file)
	return file
}
