//go:build litestream

package litestreamtest

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// writerEnv makes the test binary the writer process: "PATH GOROUTINES
// WRITES_PER_SECOND_EACH [TOTAL]" (with TOTAL it exits after that many
// writes).
const writerEnv = "ORGDB_LITESTREAM_WRITER"

// Litestream's settings in these tests. syncInterval is the replica's;
// Litestream reads the WAL every monitorInterval and checkpoints it once
// it holds minCheckpointPages (PASSIVE: under a steady load it never
// catches up with the writer, so the WAL does not restart), and truncates
// it once it holds truncatePages (TRUNCATE: waits for the writer, then
// empties the WAL): that is what bounds the WAL.
const (
	syncInterval       = time.Second
	monitorInterval    = 100 * time.Millisecond
	minCheckpointPages = 256
	truncatePages      = 512 // 2 MiB of 4 KiB pages
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(writerEnv); spec != "" {
		os.Exit(writer(spec))
	}
	os.Exit(m.Run())
}

// writer is the writer process: it opens the store with external
// checkpoints, as a service under Litestream does, and signs users up from
// several goroutines, each at a steady rate, until it is killed, printing
// "ack N" once user N's commit returned.
func writer(spec string) int {
	var path string
	var n, rate, total int
	f := strings.Fields(spec)
	if len(f) == 3 {
		f = append(f, "0")
	}
	if _, err := fmt.Sscan(strings.Join(f, " "), &path, &n, &rate, &total); err != nil {
		fmt.Println("error", err)
		return 1
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.WithExternalCheckpoints())
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var next atomic.Int64
	fmt.Fprintln(out, "ready")
	out.Flush()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			for range tick.C {
				i := next.Add(1)
				if total > 0 && i > int64(total) {
					return
				}
				if _, err := st.CreateUser(ctx, store.NewUser{Email: email(int(i))}); err != nil {
					mu.Lock()
					fmt.Fprintln(out, "error", err)
					out.Flush()
					mu.Unlock()
					return
				}
				mu.Lock()
				fmt.Fprintln(out, "ack", i)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if total > 0 {
		return report(st.Close())
	}
	return 1
}

func report(err error) int {
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	return 0
}

func email(i int) string { return fmt.Sprintf("user%07d@acme.test", i) }

// bin returns the Litestream binary: $ORGDB_LITESTREAM. Without it the
// test is skipped, except on CI (CI=true), where it fails.
func bin(t *testing.T) string {
	t.Helper()
	p := os.Getenv("ORGDB_LITESTREAM")
	if p == "" {
		msg := "ORGDB_LITESTREAM is not set: run `make test-litestream` (it builds the pinned Litestream and runs these tests)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; on CI the Litestream tests must run")
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("ORGDB_LITESTREAM=%s: %v (make test-litestream builds it)", p, err)
	}
	return p
}

// replication is a database replicated by a litestream process to a file
// replica, all under t.TempDir().
type replication struct {
	bin, db, replica, config string
	cmd                      *exec.Cmd
	log                      *os.File
}

// replicate migrates a new database and starts `litestream replicate` on
// it.
func replicate(t *testing.T) *replication {
	t.Helper()
	dir := t.TempDir()
	r := &replication{bin: bin(t), db: filepath.Join(dir, "orgdb.db"), replica: filepath.Join(dir, "replica"), config: filepath.Join(dir, "litestream.yml")}
	st, err := store.Open(context.Background(), r.db, store.WithExternalCheckpoints())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`dbs:
  - path: %s
    monitor-interval: %s
    min-checkpoint-page-count: %d
    truncate-page-n: %d
    replica:
      type: file
      path: %s
      sync-interval: %s
`, r.db, monitorInterval, minCheckpointPages, truncatePages, r.replica, syncInterval)
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if r.log, err = os.Create(filepath.Join(dir, "litestream.log")); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(r.bin, "replicate", "-config", r.config)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(r.log.Name())
			t.Logf("litestream log:\n%s", b)
		}
	})
	// Litestream has taken over once its tables are in the database.
	r.await(t, "Litestream to start replicating", func() bool {
		d := readOnly(t, r.db)
		defer d.Close()
		var n int
		return d.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name GLOB '`+schema.OthersGlob+`'`).Scan(&n) == nil && n > 0
	})
	return r
}

// await polls cond every 10 ms for up to 30 s.
func (r *replication) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restore runs litestream restore from the replica into a new file.
func (r *replication) restore(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "restored.db")
	args = append(append([]string{"restore", "-o", out}, args...), "file://"+r.replica)
	if b, err := exec.Command(r.bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("litestream %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

func readOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	dsn, err := dbfile.ReadOnlyDSN(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// emails returns the set of user emails and checks integrity.
func emails(t *testing.T, path string) map[string]bool {
	t.Helper()
	d := readOnly(t, path)
	defer d.Close()
	if got := dbtest.Strings(t, d, `PRAGMA integrity_check`); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("integrity_check of %s: %q", path, got)
	}
	if err := schema.Verify(context.Background(), d, schema.FS()); err != nil {
		t.Fatalf("restored database: %v", err)
	}
	set := map[string]bool{}
	for _, e := range dbtest.Strings(t, d, `SELECT email FROM users`) {
		set[e] = true
	}
	return set
}

// A writer process under load is killed with SIGKILL, Litestream with it,
// and the primary deleted (a lost machine): the replica restores a sound
// database holding every write acknowledged more than one sync interval
// before the kill. Meanwhile, with orgdb's checkpoints off, Litestream's
// checkpoints keep the WAL bounded.
func TestLitestreamKillRestore(t *testing.T) {
	// A busy service: 4 goroutines of 250 sign-ups a second each. (Unpaced,
	// the writer commits some 6,000 a second and Litestream, sharing two
	// cores with it, falls seconds behind.)
	const writers, perWriter = 4, 250
	r := replicate(t)
	w := exec.Command(os.Args[0], "-test.run=^$")
	w.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", writerEnv, r.db, writers, perWriter))
	stdout, err := w.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	w.Stderr = &stderr
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("writer did not start: %q %s", lines.Text(), stderr.String())
	}
	type ack struct {
		id int
		at time.Time
	}
	var mu sync.Mutex
	var acks []ack
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for lines.Scan() {
			kind, v, _ := strings.Cut(lines.Text(), " ")
			if kind != "ack" {
				t.Errorf("writer: %s", lines.Text())
				continue
			}
			id, err := strconv.Atoi(v)
			if err != nil {
				t.Errorf("writer: %q", lines.Text())
				continue
			}
			mu.Lock()
			acks = append(acks, ack{id, time.Now()})
			mu.Unlock()
		}
	}()
	// The load runs for a while; the WAL's size is sampled meanwhile.
	const load = 6 * time.Second
	var walMax int64
	seq0 := walCheckpointSeq(t, r.db)
	for end := time.Now().Add(load); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(r.db + "-wal"); err == nil {
			walMax = max(walMax, fi.Size())
		}
	}
	resets := walCheckpointSeq(t, r.db) - seq0
	// The machine is lost: both processes die at once, the files go.
	kill := time.Now()
	if err := w.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	w.Wait()
	<-readDone
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(r.db + s); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	restoreStart := time.Now()
	out := r.restore(t)
	restoreTime := time.Since(restoreStart)
	got := emails(t, out)

	mu.Lock()
	defer mu.Unlock()
	if len(acks) < 1000 {
		t.Fatalf("only %d writes acknowledged during the load", len(acks))
	}
	lost, lostOld := 0, 0
	for _, a := range acks {
		if got[email(a.id)] {
			continue
		}
		lost++
		if kill.Sub(a.at) > syncInterval {
			lostOld++
			if lostOld <= 5 {
				t.Errorf("user %d, acknowledged %v before the kill, is not in the restored database", a.id, kill.Sub(a.at).Round(time.Millisecond))
			}
		}
	}
	t.Logf("%d writes acknowledged in %v by %d goroutines; %d lost (%.2f%%), all acknowledged within %v of the kill: %d; restore took %v (%d users)",
		len(acks), load, writers, lost, 100*float64(lost)/float64(len(acks)), syncInterval, lost-lostOld, restoreTime.Round(time.Millisecond), len(got))
	if lostOld > 0 {
		t.Errorf("%d writes acknowledged more than %v before the kill were lost", lostOld, syncInterval)
	}
	// The WAL stayed bounded: orgdb never checkpoints here, so only
	// Litestream's checkpoints restarted it.
	// The bound leaves room for a loaded machine, where Litestream runs late.
	const walBound = 16 * truncatePages * 4096
	t.Logf("WAL file at most %d KiB during the load, restarted %d times by Litestream's checkpoints (truncate-page-n: %d KiB)", walMax>>10, resets, truncatePages*4)
	if walMax > walBound || resets < 2 {
		t.Errorf("WAL file reached %d KiB (bound %d KiB) and was restarted %d times: Litestream's checkpoints did not keep it bounded",
			walMax>>10, walBound>>10, resets)
	}
}

// A point-in-time restore to a timestamp gives exactly the rows committed
// before it.
func TestLitestreamPointInTime(t *testing.T) {
	r := replicate(t)
	ctx := context.Background()
	st, err := store.Open(ctx, r.db, store.WithExternalCheckpoints())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := st.CreateUser(ctx, store.NewUser{Email: email(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Litestream stamps each batch of WAL frames with the time it read
	// them, every monitor interval: a pause of several intervals on either
	// side of the timestamp keeps the batches before and after it apart.
	pause := 5 * monitorInterval
	add(0, 300)
	time.Sleep(pause)
	at := time.Now().UTC()
	time.Sleep(pause)
	add(300, 600)
	// Wait until the replica holds everything, then restore to the
	// timestamp.
	r.await(t, "the replica to hold every user", func() bool {
		out := filepath.Join(t.TempDir(), "latest.db")
		if exec.Command(r.bin, "restore", "-o", out, "file://"+r.replica).Run() != nil {
			return false
		}
		return len(emails(t, out)) == 600
	})
	got := emails(t, r.restore(t, "-timestamp", at.Format(time.RFC3339Nano)))
	if len(got) != 300 {
		t.Fatalf("restore to %s: %d users, want the 300 committed before it", at.Format(time.RFC3339Nano), len(got))
	}
	for i := range 300 {
		if !got[email(i)] {
			t.Fatalf("restore to the timestamp lacks user %d, committed before it", i)
		}
	}
}

// walCheckpointSeq reads the checkpoint sequence number of db's WAL (bytes
// 12-15 of its header, big-endian): SQLite adds one every time a
// checkpoint has copied the whole WAL and the next writer starts it over.
func walCheckpointSeq(t *testing.T, db string) uint32 {
	t.Helper()
	f, err := os.Open(db + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [16]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		t.Fatalf("WAL header: %v", err)
	}
	return binary.BigEndian.Uint32(h[12:])
}

// deploy/litestream.yml and the sidecar command the README gives work as
// written: the service runs as Litestream's child, with external
// checkpoints, and what it wrote is in the replica when it exits.
func TestLitestreamDeployConfig(t *testing.T) {
	ls := bin(t)
	dir := t.TempDir()
	db, replica := filepath.Join(dir, "orgdb.db"), filepath.Join(dir, "replica")
	cmd := exec.Command(ls, "replicate", "-config", filepath.Join("..", "..", "deploy", "litestream.yml"),
		"-exec", os.Args[0]+" -test.run=^$")
	cmd.Env = append(os.Environ(), "ORGDB_DB="+db, "ORGDB_REPLICA="+replica, "ORGDB_EXTERNAL_CHECKPOINTS=1",
		writerEnv+"="+db+" 2 200 400")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("litestream replicate -exec: %v\n%s", err, out)
	}
	restored := filepath.Join(t.TempDir(), "restored.db")
	if b, err := exec.Command(ls, "restore", "-o", restored, "file://"+replica).CombinedOutput(); err != nil {
		t.Fatalf("litestream restore: %v\n%s", err, b)
	}
	if got := emails(t, restored); len(got) != 400 {
		t.Fatalf("the replica holds %d users, want the 400 the service wrote before it exited", len(got))
	}
}
