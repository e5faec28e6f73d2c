package store_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// queryKinds reads queries/*.sql: every generated query's name and kind
// (":one", ":many", ":exec", ":execrows") and whether it writes.
func queryKinds(t *testing.T) (kinds map[string]string, writes map[string]bool) {
	t.Helper()
	files, err := filepath.Glob("../queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files: %v", err)
	}
	kinds, writes = map[string]string{}, map[string]bool{}
	re := regexp.MustCompile(`(?m)^-- name: (\w+) (:\w+)\n((?:--.*\n)*)\s*(\w+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			kinds[m[1]] = m[2]
			writes[m[1]] = !strings.EqualFold(m[4], "SELECT")
		}
	}
	return kinds, writes
}

// The Store's method set is its own: no embedded field, no WithTx, no raw
// generated write, no generated name with another meaning, no argument of
// a generated query's raw parameter type, and nothing that hands out a
// sealed key.
func TestStoreMethodSet(t *testing.T) {
	t.Parallel()
	for f := range reflect.TypeFor[store.Store]().Fields() {
		if f.Anonymous || f.IsExported() {
			t.Errorf("Store has the field %s (embedded %v): its surface is its methods", f.Name, f.Anonymous)
		}
	}
	kinds, writes := queryKinds(t)
	qt := reflect.TypeFor[*db.Queries]()
	generated := map[string]reflect.Method{}
	for m := range qt.Methods() {
		generated[m.Name] = m
	}
	for name := range kinds {
		if _, ok := generated[name]; !ok {
			t.Fatalf("queries/ names %s, which *db.Queries lacks: regenerate", name)
		}
	}
	dbPkg := qt.Elem().PkgPath()
	st := reflect.TypeFor[*store.Store]()
	for m := range st.Methods() {
		if m.Name == "WithTx" {
			t.Errorf("Store has WithTx")
		}
		in, out := params(m.Type, 1), results(m.Type)
		for _, p := range in {
			if p.PkgPath() == dbPkg && strings.HasSuffix(p.Name(), "Params") {
				t.Errorf("Store.%s takes %s, a generated query's raw arguments", m.Name, p)
			}
		}
		for _, r := range out {
			if path := sealedField(r, nil); path != "" {
				t.Errorf("Store.%s returns %s, which carries the sealed key (%s)", m.Name, r, path)
			}
		}
		g, ok := generated[m.Name]
		if !ok || m.Name == "Close" {
			continue
		}
		gin, gout := params(g.Type, 1), results(g.Type)
		if writes[m.Name] && reflect.DeepEqual(in, gin) && reflect.DeepEqual(out, gout) {
			t.Errorf("Store.%s is the raw generated write %s", m.Name, g.Type)
		}
		// Same name, same meaning: the same results (the store may fill
		// arguments, validate and translate errors). An :execrows query's
		// row count is the store's to interpret (NOT_FOUND, CONFLICT, the
		// changed row, a bool).
		if kinds[m.Name] != ":execrows" && !reflect.DeepEqual(out, gout) {
			t.Errorf("Store.%s returns %v but the generated %s returns %v: rename one", m.Name, out, m.Name, gout)
		}
	}
}

// params are a method type's parameters after the receiver and ctx.
func params(f reflect.Type, skip int) []reflect.Type {
	var out []reflect.Type
	for i := skip; i < f.NumIn(); i++ {
		if p := f.In(i); p.String() != "context.Context" {
			out = append(out, p)
		}
	}
	return out
}

func results(f reflect.Type) []reflect.Type {
	var out []reflect.Type
	for i := range f.NumOut() {
		out = append(out, f.Out(i))
	}
	return out
}

// sealedField returns the path to a field named EncryptedKey in t, or "".
func sealedField(t reflect.Type, seen []reflect.Type) string {
	for _, s := range seen {
		if s == t {
			return ""
		}
	}
	seen = append(seen, t)
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return sealedField(t.Elem(), seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if f.Name == "EncryptedKey" {
				return t.Name() + "." + f.Name
			}
			if p := sealedField(f.Type, seen); p != "" {
				return t.Name() + "." + p
			}
		}
	}
	return ""
}

func TestMissingRowsAreNotFound(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithSealingKey(newKey(t)))
	signup(t, st, "admin@acme.test")
	for name, err := range map[string]error{
		"GetUser":        second(st.GetUser(ctx, "missing")),
		"GetUserByEmail": second(st.GetUserByEmail(ctx, "missing@acme.test")),
		"GetInvite":      second(st.GetInvite(ctx, "missing")),
		"ValidInvite":    second(st.ValidInvite(ctx, "missing@acme.test")),
		"OpenOrgAPIKey":  second(st.OpenOrgAPIKey(ctx, orgdb.ProviderOpenAI)),
		"DeleteInvite":   st.DeleteInvite(ctx, asAdmin(t, st), "missing"),
	} {
		if _, ok := err.(*orgdb.Error); !ok || !errors.Is(err, orgdb.ErrNotFound) || orgdb.HTTPStatus(err) != 404 {
			t.Errorf("%s of a missing row = %v (%T), want NOT_FOUND", name, err, err)
		}
	}
}

// A database failure that is nobody's fault is an INTERNAL_ERROR wrapping
// its cause: here the store is closed under the call.
func TestDatabaseFailuresAreInternal(t *testing.T) {
	t.Parallel()
	st, err := store.Open(ctx, dbtest.Path(t))
	must(t, err)
	must(t, st.Close())
	for name, err := range map[string]error{
		"GetUser":   second(st.GetUser(ctx, "u1")),
		"ListUsers": second(st.ListUsers(ctx, store.ListUsersOptions{})),
		"Tx":        st.Tx(ctx, operator, store.OperatorOnly, func(*db.Queries) error { return nil }),
		"ReadTx":    st.ReadTx(ctx, func(*db.Queries) error { return nil }),
	} {
		if _, ok := err.(*orgdb.Error); !ok || !errors.Is(err, orgdb.ErrInternal) || !errors.Is(err, sql.ErrConnDone) && !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s on a closed store = %v (%T), want INTERNAL_ERROR with the cause", name, err, err)
		}
	}
}

// Tx and ReadTx return fn's *orgdb.Error unchanged and translate anything
// else.
func TestTxErrors(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	forbidden := orgdb.Forbidden("no")
	disk := errors.New("disk on fire")
	for name, run := range map[string]func(func(*db.Queries) error) error{
		"Tx":     func(fn func(*db.Queries) error) error { return st.Tx(ctx, operator, store.OperatorOnly, fn) },
		"ReadTx": func(fn func(*db.Queries) error) error { return st.ReadTx(ctx, fn) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := run(func(*db.Queries) error { return forbidden }); err != forbidden {
				t.Errorf("an *orgdb.Error from fn came back as %v", err)
			}
			err := run(func(q *db.Queries) error { _, err := q.GetUser(ctx, "missing"); return err })
			if !errors.Is(err, orgdb.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("sql.ErrNoRows from fn came back as %v", err)
			}
			err = run(func(*db.Queries) error { return disk })
			if _, ok := err.(*orgdb.Error); !ok || !errors.Is(err, orgdb.ErrInternal) || !errors.Is(err, disk) {
				t.Errorf("a plain error from fn came back as %v (%T)", err, err)
			}
		})
	}
	// A write in ReadTx fails, and changes nothing.
	before := dbtest.Snapshot(t, st.DB())
	err := st.ReadTx(ctx, func(q *db.Queries) error {
		_, err := q.InsertUser(ctx, db.InsertUserParams{ID: "u1", Email: "a@acme.test", Role: orgdb.RoleMember})
		return err
	})
	if !errors.Is(err, orgdb.ErrInternal) || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("a write in ReadTx = %v", err)
	}
	if dbtest.Snapshot(t, st.DB()) != before {
		t.Error("a write in ReadTx changed the database")
	}
}

// Every read in one ReadTx sees the same snapshot, while a writer commits
// between its statements; a read after it sees the commit.
func TestReadTxIsOneSnapshot(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	signup(t, st, "ada@acme.test")
	read, committed := make(chan struct{}), make(chan error)
	go func() {
		<-read
		_, err := st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
		committed <- err
	}()
	err := st.ReadTx(ctx, func(q *db.Queries) error {
		n, err := q.CountUsers(ctx)
		if err != nil || n != 1 {
			t.Fatalf("first read: %d users, %v", n, err)
		}
		close(read)
		if err := <-committed; err != nil {
			t.Fatalf("the concurrent sign-up: %v", err)
		}
		if n, err = q.CountUsers(ctx); err != nil || n != 1 {
			t.Errorf("after a concurrent commit the same transaction sees %d users, %v; want 1", n, err)
		}
		if _, err := q.GetUserByEmail(ctx, "bob@acme.test"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("the snapshot sees bob: %v", err)
		}
		return nil
	})
	must(t, err)
	if n, err := st.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("after the read transaction: %d users, %v; want 2", n, err)
	}
}

// The read pool's transactions are deferred: BeginTx works there.
func TestReadDBBeginTx(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	tx, err := st.ReadDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("ReadDB().BeginTx: %v", err)
	}
	var name string
	must(t, tx.QueryRowContext(ctx, `SELECT name FROM org_settings`).Scan(&name))
	if _, err := tx.ExecContext(ctx, `UPDATE org_settings SET name = 'x'`); err == nil {
		t.Error("a reader transaction wrote")
	}
	must(t, tx.Rollback())
}

// Close can be called twice, and from several goroutines at once; every
// call returns the same result.
func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	st, err := store.Open(ctx, dbtest.Path(t))
	must(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = st.Close() })
	}
	wg.Wait()
	for _, err := range append(errs, st.Close()) {
		must(t, err)
	}
}

// Close never waits for another connection's read transaction (another
// process's, in production): its checkpoint is PASSIVE. A TRUNCATE one
// waited the whole 5 s busy timeout here.
func TestCloseDoesNotWaitForOtherReaders(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	st, err := store.Open(ctx, path)
	must(t, err)
	signup(t, st, "ada@acme.test")
	// Another connection to the file, with deferred transactions.
	other, err := sql.Open("sqlite3", strings.Replace(dbfile.DSN(path), "_txlock=immediate", "_txlock=deferred", 1))
	must(t, err)
	t.Cleanup(func() { must(t, other.Close()) })
	tx, err := other.BeginTx(ctx, nil)
	must(t, err)
	defer func() { must(t, tx.Rollback()) }()
	var n int
	must(t, tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)) // holds a read snapshot
	signup(t, st, "bob@acme.test")                                          // a WAL frame the reader pins
	start := time.Now()
	must(t, st.Close())
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with another reader open", d)
	}
}
