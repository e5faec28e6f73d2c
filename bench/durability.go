package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/store"
)

// runDurability measures, on a database of c.scale users and invites:
// backup.File's throughput as a ratio to cp's (followed by an fsync,
// as the backup does) on the same file, interleaved per round; the time
// backup.Restore takes; and, given a Litestream binary, the replication lag
// from a commit's acknowledgement to its LTX file in a file replica. It is
// not part of make bench (make bench-durability runs it).
func runDurability(dir string, c config) ([]*figure, string, error) {
	path := filepath.Join(dir, "durability.db")
	t0 := time.Now()
	if err := seedSQL(path, c.scale); err != nil {
		return nil, "", fmt.Errorf("seed: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(os.Stderr, "durability: %d users and invites, %d MiB, built in %s\n", c.scale, fi.Size()>>20, time.Since(t0).Round(time.Second))
	ratio := &figure{part: "durability", name: "backup throughput / cp throughput", target: nil}
	backupS := &figure{part: "durability", name: "backup (online API + integrity_check + fsync)", unit: "s"}
	cpS := &figure{part: "durability", name: "cp + fsync", unit: "s"}
	restoreS := &figure{part: "durability", name: "restore (copy + integrity_check + swap)", unit: "s"}
	bk := filepath.Join(dir, "backup.db")
	target := filepath.Join(dir, "restored.db")
	for round := range c.durabilityRounds {
		var tb, tc time.Duration
		for k := range 2 {
			if (k+round)%2 == 0 {
				start := time.Now()
				if _, err := backup.File(ctx, path, bk, backup.Overwrite()); err != nil {
					return nil, "", err
				}
				tb = time.Since(start)
			} else {
				start := time.Now()
				if err := cpSync(path, filepath.Join(dir, "cp.db")); err != nil {
					return nil, "", err
				}
				tc = time.Since(start)
			}
		}
		backupS.add(tb.Seconds())
		cpS.add(tc.Seconds())
		ratio.add(tc.Seconds() / tb.Seconds())
		start := time.Now()
		if _, err := backup.Restore(ctx, target, bk, backup.CreateNew()); err != nil {
			return nil, "", err
		}
		restoreS.add(time.Since(start).Seconds())
		olds, _ := filepath.Glob(target + ".bak-*")
		for _, o := range olds {
			os.Remove(o)
		}
	}
	figs := []*figure{ratio, backupS, cpS, restoreS}
	var md strings.Builder
	fmt.Fprintf(&md, "## Backup, restore and replication (%d users and invites, %d MiB; %d interleaved rounds)\n\n", c.scale, fi.Size()>>20, c.durabilityRounds)
	note := "Litestream lag not measured: pass -litestream PATH (make bench-durability builds it)."
	if c.litestream != "" {
		lag, p99, err := replicationLag(dir, path, c)
		if err != nil {
			return nil, "", err
		}
		lsRestore, err := litestreamRestore(dir, c)
		if err != nil {
			return nil, "", err
		}
		figs = append(figs, lag, lsRestore)
		note = fmt.Sprintf("Replication lag: commit acknowledged → its LTX file in a file replica, Litestream %s with deploy/litestream.yml's intervals "+
			"(monitor 1s, sync 1s), %d commits at random phases: p50 %.2f s, p99 %.2f s.", "v0.5.18", len(lag.values), lag.summary().Center, p99)
	}
	markdown(&md, figs)
	fmt.Fprintf(&md, "Backup is backup.File (SQLite's online backup API in one read transaction, then PRAGMA integrity_check, fsync, rename); "+
		"cp is cp(1) of the same file followed by an fsync of the copy. Restore is backup.Restore of that backup over a closed database. %s\n\n", note)
	return figs, md.String(), nil
}

// seedSQL builds a migrated database of n users and n invites with two
// INSERT … SELECT statements in one transaction.
func seedSQL(path string, n int) error {
	os.Remove(path)
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < ?-1)
		 INSERT INTO users (id, email, role, created_at, updated_at)
		 SELECT printf('u%07d', i), printf('user%07d@acme.test', i), CASE WHEN i < 2 THEN 'admin' ELSE 'member' END,
		        '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < ?-1)
		 INSERT INTO invites (id, email, role, invited_by, expires_at, created_at)
		 SELECT printf('i%07d', i), printf('inv%07d@acme.test', i), 'member', 'u0000000', '2099-01-01 00:00:00', '2026-01-01 00:00:00' FROM n`,
	} {
		if _, err := tx.ExecContext(ctx, q, n); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = st.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// cpSync copies src to dst with cp(1) and fsyncs the copy.
func cpSync(src, dst string) error {
	if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v: %s", err, out)
	}
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// replicationLag runs litestream replicate on the database (file replica,
// deploy/litestream.yml's intervals) and measures, for commits made at
// random phases, the time from the commit's return to the appearance of a
// new L0 LTX file in the replica. It returns the figure (median = p50) and
// the p99.
func replicationLag(dir, path string, c config) (*figure, float64, error) {
	replica := filepath.Join(dir, "replica")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.litestream, "replicate", "-config", filepath.Join("..", "deploy", "litestream.yml"))
	cmd.Env = append(os.Environ(), "ORGDB_DB="+path, "ORGDB_REPLICA="+replica)
	log, err := os.Create(filepath.Join(dir, "litestream.log"))
	if err != nil {
		return nil, 0, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	defer cmd.Wait()
	defer cancel()
	st, err := store.Open(ctx, path, store.WithExternalCheckpoints())
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	l0 := filepath.Join(replica, "ltx", "0")
	// highest is the highest transaction ID in the replica's L0 files,
	// named MINTXID-MAXTXID.ltx in fixed-width hex: it grows by one LTX
	// file per sync that found new WAL frames.
	highest := func() string {
		m, _ := filepath.Glob(filepath.Join(l0, "*.ltx"))
		h := ""
		for _, f := range m {
			_, maxID, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".ltx"), "-")
			h = max(h, maxID)
		}
		return h
	}
	// The initial snapshot of the whole file comes first.
	if err := poll(5*time.Minute, func() bool { return highest() != "" }); err != nil {
		return nil, 0, fmt.Errorf("litestream's first sync: %w (see %s)", err, log.Name())
	}
	lag := &figure{part: "durability", name: "Litestream replication lag", unit: "s"}
	for i := range c.lagSamples {
		time.Sleep(time.Duration(rand.Int64N(int64(time.Second)))) // a random phase of Litestream's ticks
		before := highest()
		if _, err := st.CreateUserBypassingPolicy(ctx, benchOperator, store.NewUser{Email: fmt.Sprintf("lag%05d@acme.test", i)}); err != nil {
			return nil, 0, err
		}
		acked := time.Now()
		if err := poll(30*time.Second, func() bool { return highest() > before }); err != nil {
			return nil, 0, fmt.Errorf("commit %d never reached the replica: %w (see %s)", i, err, log.Name())
		}
		lag.add(time.Since(acked).Seconds())
	}
	v := slices.Sorted(slices.Values(lag.values))
	return lag, v[min(len(v)-1, int(0.99*float64(len(v))))], nil
}

// litestreamRestore times `litestream restore` of the replica into a new
// file, rounds times.
func litestreamRestore(dir string, c config) (*figure, error) {
	f := &figure{part: "durability", name: "litestream restore from the file replica", unit: "s"}
	for i := range c.durabilityRounds {
		out := filepath.Join(dir, fmt.Sprintf("ls-restored-%d.db", i))
		start := time.Now()
		if b, err := exec.Command(c.litestream, "restore", "-o", out, "file://"+filepath.Join(dir, "replica")).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("litestream restore: %v: %s", err, b)
		}
		f.add(time.Since(start).Seconds())
		os.Remove(out)
	}
	return f, nil
}

// poll calls cond every 5 ms until it is true or d has passed.
func poll(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
