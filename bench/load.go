package main

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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

// runLoad runs the load against orgdb's Open alone, repeatedly,
// then beside a CPU-bound process, and once against a naive pool on the
// same file for comparison.
func runLoad(dir string, c config) ([]*figure, string, error) {
	d := c.load
	s, err := seed(dir, 1000)
	if err != nil {
		return nil, "", err
	}
	defer s.st.Close()
	st := s.st
	userID := func(r *rand.Rand) string { return fmt.Sprintf("u%07d", 2+r.IntN(s.n-2)) }
	email := func(r *rand.Rand) string { return fmt.Sprintf("inv%07d@acme.test", r.IntN(s.n)) }

	orgdbLoad := loadTarget{
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
			return st.Tx(ctx, benchOperator, store.OperatorOnly, func(q *db.Queries) error {
				u, err := q.GetUser(ctx, id)
				if err != nil {
					return err
				}
				_, err = q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: u.Role, Now: st.Now(), ID: id})
				return err
			})
		},
	}
	quiet := newLoadFigures("alone", &target{"≤", 10})
	more := func(int) error {
		quiet.add(runLoadOn(orgdbLoad, d))
		return nil
	}
	for range c.loadRuns {
		if err := more(0); err != nil {
			return nil, "", err
		}
	}
	batches, err := refine(c.refine, 1, func(int) bool { return quiet.p99.unclear() }, more)
	if err != nil {
		return nil, "", err
	}

	// Beside a CPU-bound process: the service never runs alone.
	busy := newLoadFigures("beside a CPU hog", nil)
	if err := besideBurner(func() error {
		for range c.busyRuns {
			busy.add(runLoadOn(orgdbLoad, d))
		}
		return nil
	}); err != nil {
		return nil, "", err
	}

	// The naive setup: no busy timeout, deferred transactions, one shared
	// pool, no prepared statements. One run, for comparison.
	naive, err := sql.Open("sqlite3", "file:"+dbFile(st)+"?_journal_mode=WAL&_busy_timeout=0&_foreign_keys=on")
	if err != nil {
		return nil, "", err
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
	naiveFigs := newLoadFigures("one run", nil)
	naiveFigs.prefix = "naive DSN"
	naiveFigs.add(naiveRun)

	figs := append(append(quiet.figures(), busy.figures()...), naiveFigs.figures()...)
	var md strings.Builder
	fmt.Fprintf(&md, "## Load (%d goroutines, 80%% reads / 20%% read-then-write transactions, %s per run; %d extra runs alone for an unclear p99)\n\n",
		loadWorkers, d, batches)
	markdown(&md, figs)
	md.WriteString("The target (p99 ≤ 10 ms, no busy or other errors in any run) is for a quiet machine. " +
		"The runs beside a CPU-bound process (one spinning thread per CPU, started before and stopped after them) are reported separately, without a target. " +
		"The naive run's ops/s counts its failures: without a busy timeout they fail at once instead of waiting.\n\n")
	for _, l := range []*loadFigures{quiet, busy, naiveFigs} {
		if l.firstErr != nil {
			fmt.Fprintf(os.Stderr, "load %s: first error: %v\n", l.setup, l.firstErr)
		}
	}
	return figs, md.String(), nil
}

// loadFigures is the figures of a series of load runs of one setup.
type loadFigures struct {
	setup, prefix        string
	p99, opsPerS, errors *figure
	firstErr             error
}

// newLoadFigures returns the figures of a setup; p99 is the p99 target in ms.
func newLoadFigures(setup string, p99 *target) *loadFigures {
	l := &loadFigures{setup: setup}
	fig := func(name, unit string, t *target) *figure {
		return &figure{part: "load", name: name + " (" + setup + ")", unit: unit, target: t}
	}
	l.p99 = fig("p99", "ms", p99)
	l.opsPerS = fig("ops/s", "", nil)
	l.errors = fig("errors", "", nil)
	l.errors.total = true
	if p99 != nil {
		l.errors.target = &target{"≤", 0}
	}
	return l
}

func (l *loadFigures) figures() []*figure {
	for _, f := range []*figure{l.p99, l.opsPerS, l.errors} {
		f.name = strings.TrimPrefix(l.prefix+" "+f.name, " ")
	}
	l.prefix = ""
	return []*figure{l.p99, l.opsPerS, l.errors}
}

// add records one run.
func (l *loadFigures) add(r loadResult) {
	l.p99.add(float64(r.p99.Microseconds()) / 1000)
	l.opsPerS.add(float64(r.ops) / r.elapsed.Seconds())
	l.errors.add(float64(r.busy + r.other))
	if l.firstErr == nil {
		l.firstErr = r.firstErr
	}
}

// besideBurner runs fn while a CPU-bound child process (this command with
// -burn) keeps every CPU busy.
func besideBurner(fn func() error) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start the CPU-bound process: %w", err)
	}
	cmd := exec.Command(exe, "-burn")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start the CPU-bound process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the CPU-bound process: %w", err)
	}
	runErr := fn()
	stdin.Close() // the burner exits when its standard input closes
	if err := cmd.Wait(); err != nil && runErr == nil {
		runErr = fmt.Errorf("the CPU-bound process: %w", err)
	}
	return runErr
}

// dbFile is the path of the store's database file.
func dbFile(st *store.Store) string {
	var seq int
	var name, file string
	st.DB().QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file)
	return file
}
