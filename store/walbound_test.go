package store_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Sustained writes, with readers reading all along, never grow the WAL
// past store.WALBound: the background checkpoints escalate to RESTART once
// it is large. Once the writes stop, the next checkpoints empty it
// (TRUNCATE). On PASSIVE checkpoints alone the WAL grew by every byte
// written.
func TestWALStaysBounded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: writes 1.5 times the WAL bound")
	}
	ctx := context.Background()
	path := dbtest.Path(t)
	opt, ticks := checkpointTicks()
	st := padStore(t, path, opt)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 { // readers holding snapshots of the WAL, as a service's do
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.CountUsers(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	const chunk = 256 << 10
	var largest int64
	for written := int64(0); written < store.WALBound*3/2; written += chunk {
		if _, err := st.DB().Exec(`INSERT INTO pad VALUES (randomblob(?))`, chunk); err != nil {
			t.Fatal(err)
		}
		if n := size(t, path+"-wal"); n > largest {
			largest = n
		}
		if largest > store.WALBound {
			break
		}
	}
	close(stop)
	wg.Wait()
	if largest > store.WALBound {
		t.Fatalf("the WAL reached %d MiB under sustained writes, past the bound of %d MiB", largest>>20, store.WALBound>>20)
	}
	t.Logf("largest WAL: %.1f MiB", float64(largest)/(1<<20))
	// A checkpoint sees the WAL idle, the next truncates it (RESTARTs may
	// come between).
	for n := 0; size(t, path+"-wal") != 0; n++ {
		if n == 20 {
			t.Fatalf("the WAL holds %d bytes 20 checkpoints after the writes stopped: want it truncated", size(t, path+"-wal"))
		}
		awaitTicks(t, ticks, 1)
	}
}

// The bound holds by construction, not by timing: two stores on one file
// (two processes, as far as SQLite's locks go) write as fast as they can
// while slow readers hold snapshots of the WAL for longer than a
// background RESTART waits, staggered so that one always does, and the
// background checkpoints are PASSIVE only: nothing but the gate can bound
// the WAL, which without it grew by every byte written; the gate stops
// every write past walGateBytes until a checkpoint gets through. Every write succeeds: none is refused because
// a checkpoint held the write lock.
func TestWALBoundHoldsWithSlowReaders(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: writes twice the WAL bound")
	}
	path := dbtest.Path(t)
	var stores []*store.Store
	for range 2 {
		// Background checkpoints PASSIVE only, so that nothing but the
		// gate can bound the WAL: with the RESTARTs, how often one got
		// through between the readers decided whether the WAL reached the
		// gate at all (a CI run wrote 128 MiB without a write waiting).
		stores = append(stores, padStore(t, path, store.WithCheckpointQuery(`PRAGMA wal_checkpoint(PASSIVE)`)))
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	const hold = 300 * time.Millisecond // three RESTART waits of the background policy
	for i := range 3 {
		readers.Go(func() {
			// Staggered: reader i starts i×hold/3 after the first.
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(i) * hold / 3):
			}
			for {
				err := stores[i%2].ReadTx(ctx, func(q *db.Queries) error {
					if _, err := q.CountUsers(ctx); err != nil {
						return err
					}
					// A slow reader: its snapshot stays open this long.
					select {
					case <-stop:
					case <-time.After(hold):
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	const chunk = 256 << 10
	var written, largest atomic.Int64
	var writers sync.WaitGroup
	for i, st := range stores {
		writers.Go(func() {
			for written.Load() < 2*store.WALBound && largest.Load() <= store.WALBound {
				var err error
				if i == 0 { // an explicit transaction (the store's own writes)
					err = padTx(st, chunk)
				} else { // a statement outside one
					_, err = st.DB().Exec(`INSERT INTO pad VALUES (randomblob(?))`, chunk)
				}
				if err != nil {
					t.Errorf("store %d: write: %v", i, err)
					return
				}
				written.Add(chunk)
				for n, l := size(t, path+"-wal"), largest.Load(); n > l && !largest.CompareAndSwap(l, n); l = largest.Load() {
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if largest.Load() > store.WALBound {
		t.Fatalf("the WAL reached %.1f MiB under writes with slow readers, past the bound of %d MiB", float64(largest.Load())/(1<<20), store.WALBound>>20)
	}
	waits := store.GateWaits(stores[0]) + store.GateWaits(stores[1])
	if waits == 0 {
		t.Fatal("no write waited at the WAL's gate: the test did not reach its threshold")
	}
	t.Logf("wrote %d MiB; largest WAL %.1f MiB; %d writes waited at the gate", written.Load()>>20, float64(largest.Load())/(1<<20), waits)
}

// padStore opens a store on path, closed when the test ends, with the
// test's own table pad (b BLOB), which padTx fills.
func padStore(t *testing.T, path string, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(ctx, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, st)
	if _, err := st.DB().Exec(`CREATE TABLE IF NOT EXISTS pad (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	return st
}

// padTx inserts n random bytes into pad in one transaction.
func padTx(st *store.Store, n int) error {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO pad VALUES (randomblob(?))`, n); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// With external checkpoints there is no gate either: writes past its
// threshold copy nothing into the database file and leave the WAL as
// large as they made it (Litestream decides when to checkpoint).
func TestExternalCheckpointsPassNoGate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: writes past the gate's threshold")
	}
	path := dbtest.Path(t)
	st := padStore(t, path, store.WithExternalCheckpoints())
	before := size(t, path)
	const chunk = 1 << 20
	const total = store.WALBound / 2 * 3 / 2 // 1.5 times the gate's threshold (WALBound/2)
	for range total / chunk / 2 {
		if err := padTx(st, chunk); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DB().Exec(`INSERT INTO pad VALUES (randomblob(?))`, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if after := size(t, path); after != before {
		t.Errorf("the database file went from %d to %d bytes: something checkpointed", before, after)
	}
	if n := size(t, path+"-wal"); n < total {
		t.Errorf("the WAL holds %.1f MiB after %d MiB written: something checkpointed it", float64(n)/(1<<20), total>>20)
	}
	if n := store.GateWaits(st); n != 0 {
		t.Errorf("%d writes waited at a gate", n)
	}
}

// A reader that holds its snapshot past the gate's wait (a backup of a
// large database, a slow ReadTx) does not stop the writes: the write that
// waited gives up after the wait, the store logs a warning, and the
// writes after it do not wait again while the WAL stays that large. The
// WAL then passes the gate's threshold: the documented exception to the
// bound.
func TestWALGateGivesWayToALongReader(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: writes past the gate's threshold and waits for it")
	}
	warnings := make(chan slog.Record, 16)
	log := slog.New(handlerFunc(func(r slog.Record) {
		if r.Level >= slog.LevelWarn {
			select {
			case warnings <- r:
			default:
			}
		}
	}))
	path := dbtest.Path(t)
	st := padStore(t, path, store.WithLogger(log))
	const chunk = 1 << 20
	if err := padTx(st, chunk); err != nil {
		t.Fatal(err)
	}
	reading, release := make(chan struct{}), make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		err := st.ReadTx(ctx, func(q *db.Queries) error {
			if _, err := q.CountUsers(ctx); err != nil { // takes the snapshot
				return err
			}
			close(reading)
			<-release
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-reading
	for range store.WALBound / 2 / chunk * 5 / 4 { // 1.25 times the gate's threshold
		if err := padTx(st, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if n := size(t, path+"-wal"); n <= store.WALBound/2 {
		t.Errorf("the WAL holds %.1f MiB with a reader pinning its frames: want past the gate's threshold", float64(n)/(1<<20))
	}
	if n := store.GateWaits(st); n != 1 {
		t.Errorf("%d writes waited at the gate; want 1 (the gate stays open once a wait gave up)", n)
	}
	select {
	case r := <-warnings:
		if !strings.Contains(r.Message, "gate") {
			t.Errorf("warned %q", r.Message)
		}
	default:
		t.Error("no warning logged for a write that went on past the gate")
	}
	close(release)
	reader.Wait()
}
