package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/litefsrun"
	"github.com/agentops/orgdb/store"
)

// On a LiteFS replica the CLI reads, and says plainly that it is a replica
// and which host is the primary when asked to write, migrate included.
// Needs LiteFS and FUSE (make test-litefs); skips without them, fails
// under CI=true.
func TestLiteFSReplicaCLI(t *testing.T) {
	bin, err := litefsrun.Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	node := func(name string) *litefsrun.Node {
		n, err := litefsrun.NewNode(bin, filepath.Join(dir, name), name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := n.Stop(); err != nil {
				t.Error(err)
			}
		})
		return n
	}
	a, b := node("node-a"), node("node-b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []*litefsrun.Node{a, b} {
		if err := n.Start(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	primary := map[string]string{"ORGDB_DB": filepath.Join(a.Mnt, "orgdb.db")}
	replica := map[string]string{"ORGDB_DB": filepath.Join(b.Mnt, "orgdb.db")}
	must(t, primary, "", "migrate")
	must(t, primary, "", "users", "add", "me@acme.test")

	// The replica catches up with the primary's position.
	pst, err := store.Open(ctx, primary["ORGDB_DB"], store.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	rst, err := store.Open(ctx, replica["ORGDB_DB"], store.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer rst.Close()
	pos, err := pst.Pos()
	if err != nil {
		t.Fatal(err)
	}
	if err := rst.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}

	refusal := "this node is a read-only LiteFS replica: nothing was written; send writes to the primary, node-a"
	for _, c := range []struct {
		env map[string]string
		cliCase
	}{
		{primary, cliCase{args: []string{"role"}, code: 0, out: "role: primary\nposition: " + pos.String()}},
		{replica, cliCase{args: []string{"role"}, code: 0, out: "role: replica of node-a\nposition: " + pos.String()}},
		{replica, cliCase{args: []string{"users", "list"}, code: 0, out: "me@acme.test"}},
		{primary, cliCase{args: []string{"status"}, code: 0, out: "files: on a LiteFS mount"}},
		{replica, cliCase{args: []string{"users", "add", "bob@acme.test"}, code: 1, err: "orgdb users add: " + refusal}},
		{replica, cliCase{args: []string{"admin", "bootstrap", "me@acme.test"}, code: 1, err: refusal}},
		{replica, cliCase{args: []string{"migrate"}, code: 1, err: "orgdb migrate: " + refusal}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errs := cliIn(t, c.env, "", c.args...)
			checkRun(t, c.cliCase, code, out, errs)
		})
	}
	if p, err := rst.Pos(); err != nil || p != pos {
		t.Errorf("the replica's position moved from %s to %s (%v)", pos, p, err)
	}

	// Restore is refused on both nodes, and a backup into a mount, before
	// anything is locked or created there; both nodes work afterwards.
	bk := filepath.Join(dir, "b.db")
	must(t, primary, "", "backup", "--to", bk)
	for _, c := range []struct {
		env map[string]string
		cliCase
	}{
		{primary, cliCase{args: []string{"restore", "--from", bk}, code: 1, err: "orgdb restore: restore refused: " + primary["ORGDB_DB"] + " is on a LiteFS mount"}},
		{primary, cliCase{args: []string{"restore", "--from", bk}, code: 1, err: "litefs import -name orgdb.db " + bk}},
		{replica, cliCase{args: []string{"restore", "--from", bk}, code: 1, err: "orgdb restore: " + refusal}},
		{primary, cliCase{args: []string{"backup", "--to", filepath.Join(a.Mnt, "b.db")}, code: 1, err: "is inside the LiteFS mount " + a.Mnt}},
		{primary, cliCase{args: []string{"users", "add", "after@acme.test"}, code: 0, out: "added after@acme.test"}},
		{replica, cliCase{args: []string{"users", "list"}, code: 0, out: "me@acme.test"}},
	} {
		t.Run("after/"+strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errs := cliIn(t, c.env, "", c.args...)
			checkRun(t, c.cliCase, code, out, errs)
		})
	}
	if _, err := os.Stat(filepath.Join(a.Mnt, "b.db")); !os.IsNotExist(err) {
		t.Errorf("a refused backup left %s/b.db: %v", a.Mnt, err)
	}
}
