package store_test

import (
	"context"
	"sync"
	"testing"

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
	st, err := store.Open(ctx, path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := st.DB().Exec(`CREATE TABLE pad (b BLOB)`); err != nil { // the test's own table
		t.Fatal(err)
	}
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
