package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/internal/litefsrun"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// The tests of this file run real LiteFS nodes on localhost: `make
// test-litefs` builds LiteFS and runs them. Without LiteFS or FUSE they
// skip, saying so, except under CI=true, where they fail.

// liteFSBinary returns the LiteFS binary, or skips (fails under CI).
func liteFSBinary(t *testing.T) string {
	t.Helper()
	bin, err := litefsrun.Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
	return bin
}

// liteFSNode prepares a LiteFS node under dir, stopped and unmounted when
// the test ends (after the stores on it, closed by cleanups registered
// later).
func liteFSNode(t *testing.T, bin, dir, name string) *litefsrun.Node {
	t.Helper()
	n, err := litefsrun.NewNode(bin, filepath.Join(dir, name), name)
	must(t, err)
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		if litefsrun.Mounted(n.Mnt) {
			t.Errorf("%s is still mounted", n.Mnt)
		}
	})
	return n
}

// startNode starts n with primary as the static primary, within 30 s.
func startNode(t *testing.T, n, primary *litefsrun.Node) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	must(t, n.Start(c, primary))
}

// liteFSPair starts a primary (node-a) and a replica (node-b) of it.
func liteFSPair(t *testing.T) (primary, replica *litefsrun.Node) {
	t.Helper()
	bin := liteFSBinary(t)
	dir := t.TempDir()
	primary, replica = liteFSNode(t, bin, dir, "node-a"), liteFSNode(t, bin, dir, "node-b")
	startNode(t, primary, primary)
	startNode(t, replica, primary)
	return primary, replica
}

// dbOn is the database path on a node's mount.
func dbOn(n *litefsrun.Node) string { return filepath.Join(n.Mnt, "orgdb.db") }

// openOn opens the store on a node's mount (WithLiteFS) and closes it when
// the test ends.
func openOn(t *testing.T, n *litefsrun.Node, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(ctx, dbOn(n), append([]store.Option{store.WithLiteFS()}, opts...)...)
	if err != nil {
		t.Fatalf("open on %s: %v\nlitefs log:\n%s", n.Name, err, n.Log())
	}
	closeStore(t, st)
	return st
}

// catchUp waits until replica has what primary committed so far.
func catchUp(t *testing.T, primary, replica *store.Store) litefs.Pos {
	t.Helper()
	pos, err := primary.Pos()
	must(t, err)
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(t, replica.WaitFor(c, pos))
	return pos
}

func TestPosText(t *testing.T) {
	t.Parallel()
	p := litefs.Pos{TXID: 0x2a, Checksum: 0xc3058e8963fe8c40}
	if p.String() != "000000000000002a/c3058e8963fe8c40" {
		t.Errorf("String = %s", p)
	}
	back, err := litefs.ParsePos(p.String() + "\n")
	if err != nil || back != p {
		t.Errorf("ParsePos(String) = %v, %v", back, err)
	}
	for _, bad := range []string{"", "2a/c3", "000000000000002a", "000000000000002a/c3058e8963fe8c4g", "000000000000002a-c3058e8963fe8c40"} {
		_, err := litefs.ParsePos(bad)
		wantErr(t, err, orgdb.CodeValidation, "")
	}
}

// Off LiteFS a store is standalone: always primary, no position to wait
// for; WithLiteFS refuses a file that is not on a LiteFS mount.
func TestStandaloneRole(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	if r := st.Role(); r != (litefs.Role{Primary: true}) || r.String() != "standalone" {
		t.Errorf("Role = %+v (%s)", r, r)
	}
	if p, err := st.Pos(); err != nil || !p.IsZero() {
		t.Errorf("Pos = %v, %v", p, err)
	}
	must(t, st.WaitFor(ctx, litefs.Pos{TXID: 1 << 40}))
	path := dbtest.Path(t)
	_, err := store.Open(ctx, path, store.WithLiteFS())
	wantErr(t, err, orgdb.CodeValidation, litefs.ReasonNotLiteFS)
	if !strings.Contains(err.Error(), "fuse.dir") {
		t.Errorf("refusal %q does not say where the database belongs", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused Open created %s", path)
	}
}

// Migrations run on the primary only and reach the replica, which waits
// for them; a write on the primary is readable on the replica after
// WaitFor its position.
func TestLiteFSMigrationsAndReadYourWrites(t *testing.T) {
	primaryNode, replicaNode := liteFSPair(t)

	// Before the primary has created the database, a replica waits, and
	// says why when its wait ends.
	_, err := store.Open(ctx, dbOn(replicaNode), store.WithReplicaWait(300*time.Millisecond))
	wantErr(t, err, orgdb.CodeUnavailable, litefs.ReasonSchemaPending)
	if !strings.Contains(err.Error(), "node-a") || !strings.Contains(err.Error(), "migrate on the primary") {
		t.Errorf("schema_pending %q names neither the primary nor what to do", err)
	}
	opened := make(chan error, 1)
	var replica *store.Store
	go func() {
		var err error
		replica, err = store.Open(ctx, dbOn(replicaNode), store.WithLiteFS())
		opened <- err
	}()
	primary := openOn(t, primaryNode)
	must(t, <-opened)
	closeStore(t, replica)

	if r := primary.Role(); r != (litefs.Role{LiteFS: true, Primary: true}) {
		t.Errorf("primary's Role = %+v", r)
	}
	if r := replica.Role(); r != (litefs.Role{LiteFS: true, PrimaryHost: "node-a"}) || r.String() != "replica of node-a" {
		t.Errorf("replica's Role = %+v (%s)", r, r)
	}
	// The replica's schema is the primary's, every migration of this
	// binary applied there and recorded alike.
	catchUp(t, primary, replica)
	if p, r := dbtest.Catalog(t, primary.ReadDB()), dbtest.Catalog(t, replica.ReadDB()); !slices.Equal(p, r) || len(p) == 0 {
		t.Errorf("the replica's schema differs from the primary's:\nprimary %q\nreplica %q", p, r)
	}
	migs := `SELECT version||' '||sha256 FROM schema_migrations ORDER BY version`
	if p, r := dbtest.Strings(t, primary.ReadDB(), migs), dbtest.Strings(t, replica.ReadDB(), migs); !slices.Equal(p, r) {
		t.Errorf("schema_migrations: primary %q, replica %q", p, r)
	}

	// Read your writes: each user is on the replica once it reached the
	// position read after the write returned. The replica's Generation
	// changes with each commit LiteFS applies there, so what is cached
	// on a replica (orgdb serve's answers) is never stale past WaitFor.
	count := store.NewCached(replica, replica.CountUsers)
	for i := range 30 {
		before, err := count.Get(ctx)
		must(t, err)
		g, err := replica.Generation(ctx)
		must(t, err)
		u := signup(t, primary, fmt.Sprintf("u%d@acme.test", i))
		pos, err := primary.Pos()
		must(t, err)
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		must(t, replica.WaitFor(c, pos))
		cancel()
		got, err := replica.GetUser(ctx, u.ID)
		if err != nil || got != u {
			t.Fatalf("after WaitFor(%s) the replica reads %+v, %v; want %+v", pos, got, err, u)
		}
		if g2, err := replica.Generation(ctx); err != nil || g2 == g {
			t.Fatalf("the replica's Generation is %d (%v) after a replicated commit, as before it: caches there would stay stale", g2, err)
		}
		if after, err := count.Get(ctx); err != nil || after != before+1 {
			t.Fatalf("the replica's cached user count is %d (%v) after a replicated signup, want %d", after, err, before+1)
		}
	}

	// A position the replica does not reach in time, and one from
	// another history.
	pos, err := primary.Pos()
	must(t, err)
	c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = replica.WaitFor(c, litefs.Pos{TXID: pos.TXID + 1000})
	wantErr(t, err, orgdb.CodeUnavailable, litefs.ReasonReplicaBehind)
	if !errors.Is(err, context.DeadlineExceeded) || orgdb.HTTPStatus(err) != 503 {
		t.Errorf("WaitFor past its deadline: %v (status %d)", err, orgdb.HTTPStatus(err))
	}
	err = replica.WaitFor(ctx, litefs.Pos{TXID: pos.TXID, Checksum: pos.Checksum ^ 1})
	wantErr(t, err, orgdb.CodeConflict, litefs.ReasonPosDiverged)
	must(t, primary.WaitFor(ctx, pos)) // the primary has its own positions
	err = primary.WaitFor(ctx, litefs.Pos{TXID: pos.TXID + 1000})
	wantErr(t, err, orgdb.CodeConflict, litefs.ReasonPosDiverged)

	// A replica refuses a database that a newer binary migrated.
	exec(t, primary.DB(), `INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (9999, 'from_the_future', 'x', '2030-01-01 00:00:00')`)
	catchUp(t, primary, replica)
	_, err = store.Open(ctx, dbOn(replicaNode))
	wantErr(t, err, orgdb.CodeConflict, litefs.ReasonSchemaNewer)
	if !strings.Contains(err.Error(), "9999_from_the_future") || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("schema_newer %q names neither the migration nor what to do", err)
	}
}

// touchDriver counts what reaches SQLite on the writer's connections: a
// transaction begun, a statement run.
type touchDriver struct {
	driver.Driver
	n *atomic.Int64
}

func (d touchDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.Driver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &touchConn{c.(*sqlite3.SQLiteConn), d.n}, nil
}

type touchConn struct {
	*sqlite3.SQLiteConn
	n *atomic.Int64
}

func (c *touchConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	return c.SQLiteConn.BeginTx(ctx, o)
}

func (c *touchConn) ExecContext(ctx context.Context, q string, a []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.SQLiteConn.ExecContext(ctx, q, a)
}

func (c *touchConn) QueryContext(ctx context.Context, q string, a []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.SQLiteConn.QueryContext(ctx, q, a)
}

func (c *touchConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.SQLiteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &touchStmt{s.(*sqlite3.SQLiteStmt), c.n}, nil
}

type touchStmt struct {
	*sqlite3.SQLiteStmt
	n *atomic.Int64
}

func (s *touchStmt) ExecContext(ctx context.Context, a []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.SQLiteStmt.ExecContext(ctx, a)
}

func (s *touchStmt) QueryContext(ctx context.Context, a []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.SQLiteStmt.QueryContext(ctx, a)
}

// Every write method on a replica returns NOT_PRIMARY naming the primary,
// before anything reaches SQLite, and changes nothing anywhere; the same
// call succeeds on the primary. The list of writes is derived from the
// source, not written here.
func TestLiteFSReplicaRefusesEveryWrite(t *testing.T) {
	primaryNode, replicaNode := liteFSPair(t)
	oldKey := newKey(t)
	primaryTicks := make(chan error, 100)
	primary := openOn(t, primaryNode, store.WithSealingKey(oldKey), store.WithAfterCheckpoint(func(err error) {
		select {
		case primaryTicks <- err:
		default:
		}
	}))
	var touched, replicaTicks atomic.Int64
	replica := openOn(t, replicaNode, store.WithSealingKey(oldKey), store.WithWriterDriver(func(d driver.Driver) driver.Driver {
		return touchDriver{Driver: d, n: &touched}
	}), store.WithAfterCheckpoint(func(error) { replicaTicks.Add(1) }))
	// The primary checkpoints; the replica, opened after it, does not:
	// by the primary's third checkpoint the replica has had at least one
	// tick of its own.
	for range 3 {
		must(t, <-primaryTicks)
	}
	if n := replicaTicks.Load(); n != 0 {
		t.Errorf("the replica checkpointed %d times", n)
	}
	env := &writeEnv{t: t, st: primary, admin: signup(t, primary, "admin@acme.test"), keys: []seal.Key{oldKey}}
	var ran atomic.Bool
	args := writeArgs(env, &ran)
	rules := readmeRules(t)

	writes := writeMethods(t)
	// The rotation last: the other calls seal with the store's key.
	slices.SortFunc(writes, func(a, b string) int {
		if (a == "RotateSealingKey") != (b == "RotateSealingKey") {
			if a == "RotateSealingKey" {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	for _, name := range writes {
		mk, ok := args[name]
		if !ok {
			t.Errorf("Store.%s writes, but writeArgs has no arguments for it: add them", name)
			continue
		}
		in := mk()
		// An actor the write's rule admits.
		by := store.ByUser(env.admin.ID)
		if rules[name][0] == store.OperatorOnly.String() {
			by = operator
		}
		catchUp(t, primary, replica)
		before := dbtest.Snapshot(t, replica.ReadDB())
		posP, err := primary.Pos()
		must(t, err)
		posR, err := replica.Pos()
		must(t, err)
		touchedBefore := touched.Load()
		ran.Store(false)

		out := call(t, replica, name, by, in)
		err = out[len(out)-1]
		var oe *orgdb.Error
		if !errors.As(err, &oe) || oe.Code != orgdb.CodeNotPrimary || oe.Reason != litefs.ReasonReplica || oe.Details["primary"] != "node-a" {
			t.Errorf("%s on the replica: %v (%#v); want NOT_PRIMARY with details.primary node-a", name, err, err)
			continue
		}
		if !strings.Contains(err.Error(), "node-a") || !strings.Contains(err.Error(), "replica") || orgdb.HTTPStatus(err) != 421 {
			t.Errorf("%s on the replica: %q (status %d) does not say replica and node-a", name, err, orgdb.HTTPStatus(err))
		}
		if n := touched.Load() - touchedBefore; n != 0 || ran.Load() {
			t.Errorf("%s on the replica reached SQLite (%d statements, Tx's function ran: %v)", name, n, ran.Load())
		}
		if p, _ := primary.Pos(); p != posP {
			t.Errorf("%s on the replica moved the primary from %s to %s", name, posP, p)
		}
		if r, _ := replica.Pos(); r != posR {
			t.Errorf("%s on the replica moved it from %s to %s", name, posR, r)
		}
		if dbtest.Snapshot(t, replica.ReadDB()) != before {
			t.Errorf("%s on the replica changed its database", name)
		}

		if out := call(t, primary, name, by, in); out[len(out)-1] != nil {
			t.Errorf("%s on the primary, same arguments: %v", name, out[len(out)-1])
		}
	}
	t.Logf("refused on the replica, accepted on the primary: %s", strings.Join(writes, ", "))
}

// A planned static failover: the replica catches up, the primary stops,
// the replica restarts as the candidate; every acknowledged write is on
// the new primary, which takes writes. Meanwhile the replica refuses
// writes.
func TestLiteFSFailover(t *testing.T) {
	a, b := liteFSPair(t)
	primary := openOn(t, a)
	replica := openOn(t, b)
	var acked []db.User
	for i := range 20 {
		acked = append(acked, signup(t, primary, fmt.Sprintf("a%d@acme.test", i)))
	}
	last := catchUp(t, primary, replica)

	// Stop the primary: the replica still reads, and refuses writes.
	must(t, primary.Close())
	start := time.Now()
	must(t, a.Stop())
	if _, err := replica.GetUser(ctx, acked[0].ID); err != nil {
		t.Fatalf("the replica does not read with its primary down: %v", err)
	}
	_, err := replica.CreateUser(ctx, store.NewUser{Email: "lost@acme.test"})
	wantErr(t, err, orgdb.CodeNotPrimary, "")

	// Reconfigure node-b as the static primary and restart it.
	must(t, replica.Close())
	must(t, b.Stop())
	startNode(t, b, b)
	promoted := openOn(t, b)
	if r := promoted.Role(); !r.Primary {
		t.Fatalf("node-b after the failover: %+v", r)
	}
	u := signup(t, promoted, "after@acme.test")
	t.Logf("failover: primary stopped to first write on node-b in %v", time.Since(start))
	if pos, err := promoted.Pos(); err != nil || pos.TXID <= last.TXID {
		t.Errorf("node-b's position after a write: %v, %v; want past %s", pos, err, last)
	}
	for _, w := range append(acked, u) {
		got, err := promoted.GetUser(ctx, w.ID)
		if err != nil || got != w {
			t.Errorf("acknowledged %s: on the new primary %+v, %v", w.Email, got, err)
		}
	}
	if n, err := promoted.CountUsers(ctx); err != nil || n != int64(len(acked)+1) {
		t.Errorf("CountUsers = %d, %v; want %d", n, err, len(acked)+1)
	}

	// The old primary comes back as a replica of node-b and catches up.
	startNode(t, a, b)
	back := openOn(t, a)
	catchUp(t, promoted, back)
	if got, err := back.GetUser(ctx, u.ID); err != nil || got != u {
		t.Errorf("node-a as a replica reads %+v, %v", got, err)
	}
	if r := back.Role(); r.Primary || r.PrimaryHost != "node-b" {
		t.Errorf("node-a's Role = %+v", r)
	}
}

// On a LiteFS mount Restore is refused before it opens or locks anything
// (NOT_PRIMARY on a replica; on the primary a refusal that points to
// litefs import), and so is a backup written into a mount; the database
// stays readable and writable on both nodes afterwards.
func TestLiteFSRestoreAndBackupRefused(t *testing.T) {
	primary, replica := liteFSPair(t)
	open := func(n *litefsrun.Node) *store.Store {
		t.Helper()
		st, err := store.Open(ctx, dbOn(n), store.WithLiteFS())
		if err != nil {
			t.Fatalf("open on %s: %v\nlitefs log:\n%s", n.Name, err, n.Log())
		}
		return st
	}
	p := open(primary)
	_, err := p.CreateUser(ctx, store.NewUser{Email: "before@acme.test"})
	must(t, err)
	bk := filepath.Join(t.TempDir(), "b.db")
	_, err = backup.FromStore(ctx, p, bk)
	must(t, err)
	r := open(replica)
	catchUp(t, p, r)
	must(t, r.Close())
	must(t, p.Close())

	// The mounts' files, and the database's bytes on each node.
	state := func(n *litefsrun.Node) string {
		t.Helper()
		entries, err := os.ReadDir(n.Mnt)
		must(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		b, err := os.ReadFile(dbOn(n))
		must(t, err)
		return strings.Join(names, " ") + "\n" + string(b)
	}
	pBefore, rBefore := state(primary), state(replica)

	_, err = backup.Restore(ctx, dbOn(primary), bk)
	wantRefusal(t, "restore on the primary", err, orgdb.CodeValidation, backup.ReasonOnLiteFS, "litefs import", "nothing was changed")
	_, err = backup.Restore(ctx, dbOn(replica), bk)
	wantRefusal(t, "restore on the replica", err, orgdb.CodeNotPrimary, litefs.ReasonReplica, "node-a")
	for _, n := range []*litefsrun.Node{primary, replica} {
		to := filepath.Join(n.Mnt, "b.db")
		_, err = backup.File(ctx, dbOn(n), to)
		wantRefusal(t, "backup into "+n.Name+"'s mount", err, orgdb.CodeValidation, backup.ReasonOnLiteFS, "outside the mount", "nothing was written")
	}
	if got := state(primary); got != pBefore {
		t.Errorf("the refusals changed the primary's mount: %q → %q", strings.SplitN(pBefore, "\n", 2)[0], strings.SplitN(got, "\n", 2)[0])
	}
	if got := state(replica); got != rBefore {
		t.Errorf("the refusals changed the replica's mount: %q → %q", strings.SplitN(rBefore, "\n", 2)[0], strings.SplitN(got, "\n", 2)[0])
	}

	// Writable on the primary, readable on the replica.
	p = open(primary)
	closeStore(t, p)
	_, err = p.CreateUser(ctx, store.NewUser{Email: "after@acme.test"})
	must(t, err)
	r = open(replica)
	closeStore(t, r)
	catchUp(t, p, r)
	if n, err := r.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("replica after the refusals: %d users, %v; want 2", n, err)
	}
}
