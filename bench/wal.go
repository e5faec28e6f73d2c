package main

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// The wal part: sustained writes from several processes on one file, each
// a store with a writer and a reader goroutine (a service), as fast as
// they go. It reports the throughput, the largest WAL seen (sampled every
// walSample) against store.WALBound, and the throughput of the store's
// checkpoint policy as a ratio to PASSIVE checkpoints alone (the policy
// before issue 22: a PASSIVE checkpoint every 200 ms on a connection of
// its own, no journal_size_limit), interleaved per round.

// walSample is how often the WAL's size is read.
const walSample = 50 * time.Millisecond

// walRun is one run: procs processes writing for a duration.
type walRun struct {
	commits float64       // per second, all processes together
	largest int64         // bytes
	locked  int           // transactions that failed with "database is locked" (retried)
	slowest time.Duration // the longest committed transaction, from BEGIN to COMMIT
	// openRetries counts the Opens that failed with database_locked and
	// were tried again.
	openRetries int
}

// runWAL is the wal part.
func runWAL(dir string, c config) ([]*figure, string, error) {
	var figs []*figure
	var md strings.Builder
	fmt.Fprintf(&md, "## A bounded WAL under sustained writes\n\n")
	md.WriteString("| processes | duration | commits/s | largest WAL | bound | \"database is locked\" | slowest transaction | Open retried | load average (1 min, before → after) |\n|---|---|---|---|---|---|---|---|---|\n")
	// One value, the largest WAL of every run of the policy (total: judged
	// as it is, not as a median).
	largest := &figure{part: "wal", name: "largest WAL of all the policy's runs", unit: "MiB", target: &target{"≤", float64(store.WALBound >> 20)}, total: true}
	var most int64
	for _, procs := range []int{1, c.walProcs} {
		before := loadAverage()
		r, err := walOnce(dir, "policy", procs, c.walFor)
		if err != nil {
			return nil, "", err
		}
		after := loadAverage()
		most = max(most, r.largest)
		fmt.Fprintf(os.Stderr, "wal: %d processes for %s: %.0f commits/s, largest WAL %.1f MiB, %d locked, slowest transaction %s, %d Opens retried, load %s → %s\n",
			procs, c.walFor, r.commits, float64(r.largest)/(1<<20), r.locked, r.slowest.Round(time.Millisecond), r.openRetries, before, after)
		fmt.Fprintf(&md, "| %d | %s | %.0f | %.1f MiB | %d MiB | %d | %s | %d | %s → %s |\n",
			procs, c.walFor, r.commits, float64(r.largest)/(1<<20), store.WALBound>>20, r.locked, r.slowest.Round(time.Millisecond), r.openRetries, before, after)
	}
	roundsBefore := loadAverage()
	ratio := &figure{part: "wal", name: fmt.Sprintf("throughput, policy / PASSIVE only (%d processes)", c.walProcs)}
	passiveMost := int64(0)
	lockedPolicy, lockedPassive := 0, 0
	for round := range c.walRounds {
		var tp, tq float64
		for k := range 2 {
			policy := "policy"
			if (k+round)%2 == 1 {
				policy = "passive"
			}
			r, err := walOnce(dir, policy, c.walProcs, c.walRoundFor)
			if err != nil {
				return nil, "", err
			}
			if policy == "policy" {
				tp, most = r.commits, max(most, r.largest)
				lockedPolicy += r.locked
			} else {
				tq, passiveMost = r.commits, max(passiveMost, r.largest)
				lockedPassive += r.locked
			}
		}
		ratio.add(tp / tq)
	}
	roundsAfter := loadAverage()
	largest.add(float64(most) / (1 << 20))
	largest.note = fmt.Sprintf("sampled every %s; PASSIVE only reached %.0f MiB in %s runs", walSample, float64(passiveMost)/(1<<20), c.walRoundFor)
	ratio.note = fmt.Sprintf("load average %s → %s", roundsBefore, roundsAfter)
	figs = append(figs, largest, ratio)
	md.WriteString("\n")
	markdown(&md, figs)
	fmt.Fprintf(&md, "Each process opens its own store on one file and runs a writer (a user and an invite per transaction) and a reader "+
		"(CountUsers) as fast as they go. The WAL's size is sampled every %s. The ratio pairs, per round, a %s run of the store's checkpoint "+
		"policy (PASSIVE every 200 ms, RESTART past 8 MiB, TRUNCATE when idle, journal_size_limit 6 MiB, and the gate: past 32 MiB every write "+
		"waits for a TRUNCATE checkpoint; the writer tries for the write lock every 1 ms) with one of PASSIVE checkpoints "+
		"alone (the policy before), %d rounds, order alternating. Transactions that failed with \"database is locked\" (a process's writer "+
		"waiting past the 5 s busy timeout: SQLite's locks are not fair between processes) are retried and not counted: in the rounds, "+
		"%d with the policy, %d with PASSIVE only. The slowest transaction is the longest of any process from BEGIN to COMMIT, waits for "+
		"the write lock and at the WAL's gate included. A writer process retries its Open while it fails with database_locked (for up to %s; "+
		"the column counts the retries): four processes open one new file at once, and a service would retry such a start too.\n\n",
		walSample, c.walRoundFor, c.walRounds, lockedPolicy, lockedPassive, walOpenFor)
	return figs, md.String(), nil
}

// walOnce runs procs writer processes with policy ("policy" or "passive")
// on a new database for d and returns what they did.
func walOnce(dir, policy string, procs int, d time.Duration) (walRun, error) {
	path := filepath.Join(dir, fmt.Sprintf("wal-%d.db", rand.Int()))
	defer func() {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(path + s)
		}
	}()
	st, err := store.Open(ctx, path)
	if err != nil {
		return walRun{}, err
	}
	if err := st.Close(); err != nil {
		return walRun{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return walRun{}, err
	}
	type child struct {
		cmd *exec.Cmd
		out *bufio.Scanner
	}
	var children []child
	for range procs {
		cmd := exec.Command(exe, "-wal-writer", path, "-wal-policy", policy, "-wal-for", d.String())
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return walRun{}, err
		}
		if err := cmd.Start(); err != nil {
			return walRun{}, err
		}
		children = append(children, child{cmd, bufio.NewScanner(out)})
	}
	var largest int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(walSample)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fi, err := os.Stat(path + "-wal"); err == nil {
					largest = max(largest, fi.Size())
				}
			}
		}
	})
	var total float64
	var locked, opens int
	var slowest float64
	var errs []error
	for _, ch := range children {
		if ch.out.Scan() {
			var n, slow float64
			var l, o int
			_, err := fmt.Sscan(ch.out.Text(), &n, &l, &slow, &o)
			errs = append(errs, err)
			total += n
			locked += l
			opens += o
			slowest = max(slowest, slow)
		} else {
			errs = append(errs, errors.New("a writer process printed nothing"))
		}
		errs = append(errs, ch.cmd.Wait())
	}
	close(done)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return walRun{}, err
	}
	return walRun{commits: total / d.Seconds(), largest: largest, locked: locked, slowest: time.Duration(slowest * float64(time.Second)), openRetries: opens}, nil
}

// walWriter is a writer process of the wal part: it writes to path for d
// with policy and prints how many transactions it committed and how many
// failed with "database is locked" (another process held the write lock
// past the busy timeout; they are retried).
func walWriter(path, policy string, d time.Duration) error {
	var opts []store.Option
	opts = append(opts, store.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if policy == "passive" {
		opts = append(opts, store.WithExternalCheckpoints())
	}
	st, opens, err := openRetrying(path, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if policy == "passive" { // the checkpoints before issue 22
		ck, err := sql.Open("sqlite3", dbfile.DSN(path))
		if err != nil {
			return err
		}
		defer ck.Close()
		ck.SetMaxOpenConns(1)
		wg.Go(func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					_, _ = ck.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) // a failure is retried on the next tick, as the store did
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = st.CountUsers(ctx) // the reader only holds snapshots; its errors do not matter here
		}
	})
	deadline := time.Now().Add(d)
	n, locked := 0, 0
	var slowest time.Duration
	tag := rand.Int64()
	var werr error
	for time.Now().Before(deadline) {
		start := time.Now()
		err := walPair(st, tag, n)
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrBusy {
			locked++ // a client would be told UNAVAILABLE database_locked and try again
			continue
		}
		if werr = err; werr != nil {
			break
		}
		slowest = max(slowest, time.Since(start))
		n++
	}
	close(stop)
	wg.Wait()
	if werr != nil {
		return werr
	}
	fmt.Println(n, locked, slowest.Seconds(), opens)
	return nil
}

// openRetrying opens the store at path, trying again for up to
// walOpenFor while Open fails with UNAVAILABLE database_locked, and
// returns how many times it tried again. Four processes open one new file
// at once while the others already write: the first opener's migration,
// or a checkpoint at the WAL's gate, can hold the write lock past an
// Open's busy timeout, and a service would retry such a start too.
func openRetrying(path string, opts ...store.Option) (*store.Store, int, error) {
	deadline := time.Now().Add(walOpenFor)
	for retries := 0; ; retries++ {
		st, err := store.Open(ctx, path, opts...)
		var oe *orgdb.Error
		if err == nil || !errors.As(err, &oe) || oe.Reason != store.ReasonDatabaseLocked || time.Now().After(deadline) {
			return st, retries, err
		}
	}
}

// walOpenFor is how long a writer process retries a locked Open.
const walOpenFor = 30 * time.Second

// walPair commits a user and an invite in one transaction.
func walPair(st *store.Store, tag int64, i int) error {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	now := orgdb.NewTime(time.Now())
	exp := orgdb.NewTime(time.Now().Add(time.Hour))
	id := fmt.Sprintf("w%x-%d", tag, i)
	_, err = tx.Exec(`INSERT INTO users (id, email, role, created_at, updated_at) VALUES (?, ?, 'member', ?, ?)`, id, id+"@acme.test", now, now)
	if err == nil {
		_, err = tx.Exec(`INSERT INTO invites (id, email, role, invited_by, expires_at, created_at) VALUES (?, ?, 'member', ?, ?, ?)`, "i"+id, "i"+id+"@acme.test", id, exp, now)
	}
	if err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// loadAverage is the 1-minute load average, as /proc/loadavg says, or
// "?" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
