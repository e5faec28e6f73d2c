package backup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/litefsrun"
	"github.com/agentops/orgdb/store"
)

// lockOut's release unlocks what it locked, on a LiteFS mount too, whose
// FUSE layer keeps an open file description's lock past its close: a
// store opens and writes the database afterwards. Needs LiteFS and FUSE
// (make test-litefs); skips without them, fails under CI=true.
func TestLiteFSLockOutReleases(t *testing.T) {
	bin, err := litefsrun.Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
	n, err := litefsrun.NewNode(bin, filepath.Join(t.TempDir(), "node-a"), "node-a")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx, n); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(n.Mnt, "orgdb.db")
	write := func(email string) {
		t.Helper()
		st, err := store.Open(ctx, path, store.WithLiteFS())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, store.NewUser{Email: email}); err != nil {
			t.Fatalf("write after lockOut's release: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("before@acme.test")
	release, err := lockOut(path)
	if err != nil {
		t.Fatal(err)
	}
	release()
	write("after@acme.test")
}
