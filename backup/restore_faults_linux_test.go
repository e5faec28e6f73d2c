package backup_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Faults injected into a real restore, one at a time, with strace: at
// every call of each syscall below, the restoring process is killed
// (SIGKILL) or the call fails with EIO. After each, the live database
// must be sound and hold either every acknowledged write of before the
// restore (including those still in its -wal, written by a process killed
// with SIGKILL) or the whole backup, and the backup only if the restore
// said it succeeded; a failed restore leaves the old database.
//
// make test runs the syscalls of the last steps (fsync, rename, link,
// unlink, truncate) at every call; ORGDB_FAULTS=all (make test-faults)
// adds every other syscall restore makes on files, at every call of those
// with few, at 16 calls spread over the rest and the last 8 of those with
// many (a restore reads and locks thousands of times: every call of every
// syscall is ORGDB_FAULTS=every, about an hour). ORGDB_FAULT_ONLY=NAME (as a failure
// names it, e.g. ftruncate#4:error=EIO) runs one fault and leaves its
// strace in /tmp/fault.trace.
var (
	faultsFocused = []string{"fsync", "fdatasync", "renameat", "linkat", "unlinkat", "ftruncate"}
	faultsAll     = append(slices.Clone(faultsFocused), "openat", "pwrite64", "pread64", "write", "read", "fcntl", "flock", "close", "newfstatat", "fstat", "lseek", "getdents64", "mmap", "munmap")
)

const (
	faultOld    = 50  // pairs checkpointed into the live file
	faultInWAL  = 300 // pairs acknowledged, still in its -wal
	faultBackup = 7   // pairs in the backup
)

// walWriter is the "walwriter" action of a child process: it opens the
// store with external checkpoints, adds arg pairs, says "ready" and waits
// to be killed, so that its writes stay in the -wal.
func walWriter(ctx context.Context, path, arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	st, err := store.Open(ctx, path, store.WithExternalCheckpoints())
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	for i := range n {
		if err := dbtest.AddPair(ctx, st.DB(), 10_000+i); err != nil {
			fmt.Println("error", err)
			return 1
		}
	}
	fmt.Println("ready")
	select {} // until killed
}

// faultTemplate writes a database of faultOld pairs checkpointed and
// faultInWAL more in its -wal, left by a writer killed with SIGKILL, and
// returns its path.
func faultTemplate(t *testing.T) string {
	t.Helper()
	path := dbtest.Closed(t, faultOld)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), xprocEnv+"=walwriter "+path+" "+strconv.Itoa(faultInWAL))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("wal writer: %q", sc.Text())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: the error says so
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the killed writer left no -wal (%v)", err)
	}
	return path
}

// cloneDB copies the database at from and its -wal into dir.
func cloneDB(t *testing.T, from, dir string) string {
	t.Helper()
	to := filepath.Join(dir, filepath.Base(from))
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// faultRun runs one restore of from into path under strace with args,
// and returns what the child reported ("" if it was killed).
func faultRun(t *testing.T, path, from string, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command("strace", append(append([]string{"-f", "-qq"}, args...), exe, "-test.run=^$")...)
	cmd.Env = append(os.Environ(), xprocEnv+"=restore "+path+" "+from)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	_ = cmd.Run() // a killed or failed restore exits non-zero: judged by what it printed
	return strings.TrimSpace(out.String())
}

// liveState opens the database at path as the next process would
// (rolling back a hot journal, recovering the -wal) and returns its users
// and invites, failing t unless integrity_check says ok.
func liveState(t *testing.T, path string) (users, invites int) {
	t.Helper()
	d, err := sql.Open("sqlite3", "file:"+path+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ok string
	if err := d.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check of %s: %q %v", path, ok, err)
	}
	if err := d.QueryRow(`SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM invites)`).Scan(&users, &invites); err != nil {
		t.Fatal(err)
	}
	return users, invites
}

// faultCount is how many times a clean restore calls syscall.
func faultCount(t *testing.T, template, from, syscallName string) int {
	t.Helper()
	path := cloneDB(t, template, t.TempDir())
	trace := filepath.Join(t.TempDir(), "trace")
	if got := faultRun(t, path, from, "-o", trace, "-e", "trace="+syscallName); got != "ok" {
		t.Fatalf("clean restore under strace: %q", got)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, syscallName+"(") {
			n++
		}
	}
	return n
}

// faultCalls is which of n calls get a fault: all of them with every or
// when there are few, else 16 spread evenly and the last 8 (the final
// steps of a restore are where the old design lost data).
func faultCalls(n int, every bool) []int {
	const spread, last = 16, 8
	var ks []int
	if every || n <= spread+last {
		for k := 1; k <= n; k++ {
			ks = append(ks, k)
		}
		return ks
	}
	for i := range spread {
		ks = append(ks, 1+i*(n-last)/spread)
	}
	for k := n - last + 1; k <= n; k++ {
		ks = append(ks, k)
	}
	return ks
}

func TestRestoreFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: runs many restores under strace")
	}
	if _, err := osexec.LookPath("strace"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace not found: .ci/run installs it (apt-get install strace)")
		}
		t.Skip("strace not found: install it (Debian: apt-get install strace) to inject faults into restore")
	}
	calls := faultsFocused
	if f := os.Getenv("ORGDB_FAULTS"); f == "all" || f == "every" {
		calls = faultsAll
	}
	template := faultTemplate(t)
	if u, i := liveState(t, cloneDB(t, template, t.TempDir())); u != faultOld+faultInWAL || i != u {
		t.Fatalf("template holds %d users and %d invites, want %d each", u, i, faultOld+faultInWAL)
	}
	from := backupOf(t, faultBackup)
	trials, failed, killed := 0, 0, 0
	for _, call := range calls {
		n := faultCount(t, template, from, call)
		for _, k := range faultCalls(n, os.Getenv("ORGDB_FAULTS") == "every" || slices.Contains(faultsFocused, call)) {
			for _, inject := range []string{"error=EIO", "signal=KILL"} {
				name := fmt.Sprintf("%s#%d:%s", call, k, inject)
				only := os.Getenv("ORGDB_FAULT_ONLY")
				if only != "" && only != name {
					continue
				}
				dir := t.TempDir()
				path := cloneDB(t, template, dir)
				out, tr := "/dev/null", "trace="+call
				if only != "" {
					out, tr = "/tmp/fault.trace", "trace=%file,%desc"
				}
				got := faultRun(t, path, from, "-o", out, "-e", tr, "-e", fmt.Sprintf("inject=%s:%s:when=%d", call, inject, k))
				trials++
				u, i := liveState(t, path)
				switch {
				case got == "ok" && u == faultBackup && i == faultBackup:
				case got == "":
					killed++
					if (u != faultBackup || i != faultBackup) && (u != faultOld+faultInWAL || i != u) {
						t.Errorf("%s: killed restore left %d users, %d invites: want the old %d or the backup's %d", name, u, i, faultOld+faultInWAL, faultBackup)
					}
				case got != "ok":
					failed++
					if u != faultOld+faultInWAL || i != u {
						t.Errorf("%s: failed restore (%s) left %d users, %d invites: want the old %d", name, got, u, i, faultOld+faultInWAL)
					}
				default:
					t.Errorf("%s: restore said ok but the database holds %d users, %d invites: want the backup's %d", name, u, i, faultBackup)
				}
				// Whatever happened, the next restore works and cleans up.
				if _, err := backup.Restore(context.Background(), path, from); err != nil {
					t.Errorf("%s: the next restore: %v", name, err)
				} else if u, _ := liveState(t, path); u != faultBackup {
					t.Errorf("%s: the next restore left %d users", name, u)
				}
				left, err := filepath.Glob(path + ".partial-*")
				if err != nil || len(left) != 0 {
					t.Errorf("%s: the next restore left temporary copies %q", name, left)
				}
				if t.Failed() {
					return // one fault's story is enough to read
				}
			}
		}
	}
	t.Logf("%d faults injected: %d failed restores, %d killed ones, the rest unaffected", trials, failed, killed)
}

// largeBackup writes a backup of n users and n invites (built with two
// INSERT … SELECT statements) and returns its path.
func largeBackup(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < ?-1)
		 INSERT INTO users (id, email, role, created_at, updated_at)
		 SELECT printf('u%07d', i), printf('user%07d@acme.test', i), 'member', '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < ?-1)
		 INSERT INTO invites (id, email, role, invited_by, expires_at, created_at)
		 SELECT printf('i%07d', i), printf('inv%07d@acme.test', i), 'member', 'u0000000', '2099-01-01 00:00:00', '2026-01-01 00:00:00' FROM n`,
	} {
		if _, err := st.DB().ExecContext(ctx, q, n); err != nil {
			t.Fatal(err)
		}
	}
	to := filepath.Join(t.TempDir(), "large.db")
	if _, err := backup.FromStore(ctx, st, to); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return to
}

// Restores of a large database raced by a process that starts writing
// at a random moment during them (the reproduction: a restore
// longer than the busy timeout, a late `users add`). In every trial the
// database is sound; the writer either wrote before the restore (into the
// old database: its user is not there, NOT_FOUND), or after it (into the
// restored one, where its write is), or was refused (UNAVAILABLE
// database_locked) and wrote nothing; or the restore was refused while
// the writer had the database open (CONFLICT in_use) and changed nothing.
func TestRestoreRacedByLateWriters(t *testing.T) {
	t.Parallel()
	if os.Getenv("ORGDB_FAULTS") != "all" {
		t.Skip("make test-faults: restores a 300,000-user database 20 times (ORGDB_FAULTS=all)")
	}
	ctx := context.Background()
	const n, trials = 300_000, 20
	from := largeBackup(t, n)
	const id = "u0000042" // a member in the backup, absent from the old database
	outcomes := map[string]int{}
	for trial := range trials {
		path := dbtest.Closed(t, 3)
		done := make(chan error, 1)
		start := time.Now()
		go func() { _, err := backup.Restore(ctx, path, from); done <- err }()
		time.Sleep(time.Duration(rand.Int64N(int64(3 * time.Second)))) // a random moment: what the trial varies, not a wait for an event
		started, result := lateWriter(t, path, id)
		started()
		got := result()
		rerr := <-done
		took := time.Since(start)
		integrityOK(t, path)
		u, _ := dbtest.Pairs(t, path)
		var oe *orgdb.Error
		switch {
		case rerr != nil && errors.As(rerr, &oe) && oe.Reason == backup.ReasonInUse:
			if u != 3 {
				t.Fatalf("trial %d: a refused restore left %d users", trial, u)
			}
			outcomes["restore refused in_use"]++
			continue
		case rerr != nil:
			t.Fatalf("trial %d: restore: %v", trial, rerr)
		case u != n:
			t.Fatalf("trial %d: restored database holds %d users, want %d", trial, u, n)
		}
		switch got {
		case "ok":
			if !promoted(t, path, id) {
				t.Fatalf("trial %d: the late write was acknowledged but is not in the restored database", trial)
			}
		case "refused " + string(orgdb.CodeNotFound) + " ":
		case "refused " + string(orgdb.CodeUnavailable) + " " + store.ReasonDatabaseLocked:
			if promoted(t, path, id) {
				t.Fatalf("trial %d: a refused write is in the restored database", trial)
			}
		default:
			t.Fatalf("trial %d: the late writer reported %q", trial, got)
		}
		outcomes["writer "+got]++
		t.Logf("trial %d: restore %s, writer %q", trial, took.Round(time.Millisecond), got)
	}
	t.Logf("%d trials: %v", trials, outcomes)
}
