package store_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/agentops/orgdb/store"
)

// TestLiteFSReplicaReopenUnderWrites opens and closes a store on a replica
// again and again while the primary writes. Closing the last connection
// must leave the replica's -shm in place (SQLITE_FCNTL_PERSIST_WAL): if it
// deletes it, the next opener recreates it at size 0 through the mount
// while LiteFS writes the index behind it, and that opener's mapping of
// the file can fault with SIGBUS, killing the process.
func TestLiteFSReplicaReopenUnderWrites(t *testing.T) {
	primary, replica := liteFSPair(t)
	p := openOn(t, primary)
	admin, err := p.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"})
	must(t, err)
	r := openOn(t, replica)
	catchUp(t, p, r)
	must(t, r.Close())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := p.CreateInvite(ctx, store.ByUser(admin.ID), store.NewInvite{Email: fmt.Sprintf("i%d@acme.test", i)}); err != nil {
				writeErr = err
				return
			}
		}
	}()
	shm := dbOn(replica) + "-shm"
	for i := range 40 {
		st, err := store.Open(ctx, dbOn(replica), store.WithLiteFS())
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("reopen %d: %v\nlitefs log:\n%s", i, err, replica.Log())
		}
		if _, err := st.CountUsers(ctx); err != nil {
			t.Errorf("reopen %d: read: %v", i, err)
		}
		must(t, st.Close())
		if _, err := os.Stat(shm); errors.Is(err, os.ErrNotExist) {
			t.Errorf("reopen %d: closing the store deleted %s; the next opener may fault with SIGBUS", i, shm)
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	must(t, writeErr)
}
