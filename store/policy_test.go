package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/access"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// writeMethods derives, from the store package's source, which exported
// methods of *Store reach the writer: those that use the fields wq or
// writer of a *Store, or call a method or function of the package that
// does (Tx, writeTx, …), to any depth. DB (the documented raw pool) and
// Close are left out.
func writeMethods(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	must(t, err)
	uses := map[string]map[string]bool{} // function or method → names it selects or calls
	methods := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		must(t, err)
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if fn.Recv != nil {
				methods[fn.Name.Name] = true
			}
			// The names of the receiver and parameters that are a *Store.
			stores := map[string]bool{}
			var fields []*ast.Field
			if fn.Recv != nil {
				fields = append(fields, fn.Recv.List...)
			}
			fields = append(fields, fn.Type.Params.List...)
			for _, f := range fields {
				if star, ok := f.Type.(*ast.StarExpr); ok {
					if id, ok := star.X.(*ast.Ident); ok && id.Name == "Store" {
						for _, n := range f.Names {
							stores[n.Name] = true
						}
					}
				}
			}
			sel := uses[fn.Name.Name]
			if sel == nil {
				sel = map[string]bool{}
				uses[fn.Name.Name] = sel
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr: // s.X, where s is a *Store
					if id, ok := n.X.(*ast.Ident); ok && stores[id.Name] {
						sel[n.Sel.Name] = true
					}
				case *ast.CallExpr: // f(…), a function of the package
					fun := n.Fun
					if ix, ok := fun.(*ast.IndexExpr); ok { // a generic function, instantiated
						fun = ix.X
					}
					if id, ok := fun.(*ast.Ident); ok {
						sel[id.Name] = true
					}
				}
				return true
			})
		}
	}
	writes := map[string]bool{"wq": true, "writer": true}
	for changed := true; changed; {
		changed = false
		for m, sel := range uses {
			for s := range sel {
				if writes[s] && !writes[m] && m != "Close" && m != "close" && m != "DB" {
					writes[m], changed = true, true
				}
			}
		}
	}
	var out []string
	for m := range reflect.TypeFor[*store.Store]().Methods() {
		if !methods[m.Name] {
			t.Fatalf("Store.%s is not declared in the store package's source", m.Name)
		}
		if writes[m.Name] {
			out = append(out, m.Name)
		}
	}
	// The derivation must find the writes a reader would name.
	for m := range reflect.TypeFor[*store.Store]().Methods() {
		for _, verb := range []string{"Create", "Update", "Delete", "Set", "Accept", "Rotate", "Bootstrap"} {
			if strings.HasPrefix(m.Name, verb) && !slices.Contains(out, m.Name) {
				t.Errorf("Store.%s was not derived as a write: the derivation misses a path to the writer", m.Name)
			}
		}
	}
	return out
}

// writeEnv is what the write calls' arguments are made from: rows set up
// on st (the primary, on LiteFS) just before each call.
type writeEnv struct {
	t     *testing.T
	st    *store.Store
	admin db.User
	keys  []seal.Key // keys[0] is st's sealing key
	seq   int
}

func (e *writeEnv) unique(what string) string {
	e.seq++
	return fmt.Sprintf("%s%d", what, e.seq)
}

func (e *writeEnv) member() db.User {
	u, err := e.st.CreateUserBypassingPolicy(ctx, operator, store.NewUser{Email: e.unique("m") + "@acme.test"})
	must(e.t, err)
	return u
}

func (e *writeEnv) invite() db.Invite {
	inv, err := e.st.CreateInvite(ctx, store.ByUser(e.admin.ID), store.NewInvite{Email: e.unique("i") + "@acme.test"})
	must(e.t, err)
	return inv
}

func (e *writeEnv) integration() db.Integration {
	it, err := e.st.CreateOrgIntegration(ctx, store.ByUser(e.admin.ID), store.NewOrgIntegration{Service: e.unique("svc")})
	must(e.t, err)
	return it
}

// rotation is a rotation from the recorded sealing key (else st's own) to
// a new one.
func (e *writeEnv) rotation() []any {
	old := e.keys[0]
	if id, ok, err := e.st.SealingKeyID(ctx); err == nil && ok {
		for _, k := range e.keys {
			if k.ID() == id {
				old = k
			}
		}
	}
	next := newKey(e.t)
	e.keys = append(e.keys, next)
	return []any{old, next}
}

// writeArgs are arguments (after ctx, without the actor) under which each
// write succeeds for an actor its rule admits. ran records whether Tx's
// function was called.
func writeArgs(e *writeEnv, ran *atomic.Bool) map[string]func() []any {
	name := "Acme"
	return map[string]func() []any{
		// Invited: after the first user, the sign-up policy wants an invite.
		"CreateUser":                func() []any { return []any{store.NewUser{Email: e.invite().Email}} },
		"CreateUserBypassingPolicy": func() []any { return []any{store.NewUser{Email: e.unique("b") + "@elsewhere.test"}} },
		"UpdateUserRole":            func() []any { return []any{e.member().ID, orgdb.RoleAdmin} },
		"DeleteUser":                func() []any { return []any{e.member().ID, store.DeleteUserOptions{}} },
		"BootstrapAdmin":            func() []any { return []any{e.admin.Email} },
		"CreateInvite":              func() []any { return []any{store.NewInvite{Email: e.unique("c") + "@acme.test"}} },
		"AcceptInvite":              func() []any { return []any{e.invite().ID} },
		"DeleteInvite":              func() []any { return []any{e.invite().ID} },
		"DeleteExpiredInvites":      func() []any { return nil },
		"UpdateOrgSettings":         func() []any { return []any{store.OrgSettingsPatch{Name: &name}} },
		"SetOrgAPIKey": func() []any {
			return []any{orgdb.ProviderOpenAI, seal.NewSecret("sk-" + e.unique("k"))}
		},
		"DeleteOrgAPIKey": func() []any {
			must(e.t, second(e.st.SetOrgAPIKey(ctx, store.ByUser(e.admin.ID), orgdb.ProviderGoogle, seal.NewSecret("g-key"))))
			return []any{orgdb.ProviderGoogle}
		},
		"RotateSealingKey":     e.rotation,
		"CreateOrgIntegration": func() []any { return []any{store.NewOrgIntegration{Service: e.unique("s")}} },
		"UpdateOrgIntegration": func() []any {
			return []any{e.integration().ID, store.OrgIntegrationUpdate{Config: "{}", Status: "active"}}
		},
		"DeleteOrgIntegration": func() []any { return []any{e.integration().ID} },
		"Tx": func() []any {
			id := e.unique("tx")
			return []any{store.AdminOnly, func(q *db.Queries) error {
				ran.Store(true)
				_, err := q.InsertIntegration(ctx, db.InsertIntegrationParams{ID: id, UserID: e.admin.ID, Service: id, Config: "{}", Status: "active", Scope: orgdb.ScopeUser})
				return err
			}}
		},
	}
}

// call calls the method name of st with ctx (if it takes one), by where
// it takes a store.Actor, and args, and returns its results' errors:
// nil, or the error result, last.
func call(t *testing.T, st *store.Store, name string, by store.Actor, args []any) []error {
	t.Helper()
	m := reflect.ValueOf(st).MethodByName(name)
	mt := m.Type()
	var in []reflect.Value
	for i := 0; i < mt.NumIn(); i++ {
		switch mt.In(i) {
		case reflect.TypeFor[context.Context]():
			in = append(in, reflect.ValueOf(ctx))
		case reflect.TypeFor[store.Actor]():
			in = append(in, reflect.ValueOf(by))
		default:
			if len(args) == 0 {
				t.Fatalf("%s takes %d arguments, writeArgs gives too few", name, mt.NumIn())
			}
			in = append(in, reflect.ValueOf(args[0]))
			args = args[1:]
		}
	}
	if len(args) != 0 {
		t.Fatalf("%s: writeArgs gives %d arguments too many", name, len(args))
	}
	var errs []error
	for _, v := range m.Call(in) {
		if e, ok := v.Interface().(error); ok || (v.Type() == reflect.TypeFor[error]()) {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		t.Fatalf("%s returns no error", name)
	}
	return errs
}

// takesActor reports whether the method name of *Store has a store.Actor
// parameter.
func takesActor(name string) bool {
	m, _ := reflect.TypeFor[*store.Store]().MethodByName(name)
	for i := 0; i < m.Type.NumIn(); i++ {
		if m.Type.In(i) == reflect.TypeFor[store.Actor]() {
			return true
		}
	}
	return false
}

// policyEnv is a fresh database with an admin and a member, for one write.
func policyEnv(t *testing.T, opts ...store.Option) (*writeEnv, db.User) {
	t.Helper()
	k := newKey(t)
	st := dbtest.New(t, append([]store.Option{store.WithSealingKey(k)}, opts...)...)
	e := &writeEnv{t: t, st: st, admin: signup(t, st, "ada@acme.test"), keys: []seal.Key{k}}
	return e, e.member()
}

// observed is what a write did for each kind of actor.
type observed struct {
	admin, member, operator bool     // succeeded
	reasons                 []string // the reasons of the refusals
}

// rule is the rule the observations show.
func (o observed) rule() (store.Rule, bool) {
	switch {
	case o.admin && !o.member && !o.operator:
		return store.AdminOnly, true
	case o.admin && !o.member && o.operator:
		return store.AdminOrOperator, true
	case !o.admin && !o.member && o.operator:
		return store.OperatorOnly, true
	case o.admin && o.member && !o.operator:
		return store.AnyUser, true
	}
	return 0, false
}

// probe calls the write name as each kind of actor and says what it did.
// Every refusal must change nothing; nobody and an unknown user are
// refused (UNAUTHORIZED) whatever the rule.
func probe(t *testing.T, name string, mkArgs func(e *writeEnv) []any) observed {
	t.Helper()
	e, member := policyEnv(t)
	var o observed
	try := func(who string, by store.Actor, wantCode orgdb.Code) bool {
		t.Helper()
		args := mkArgs(e)
		before := dbtest.Snapshot(t, e.st.DB())
		errs := call(t, e.st, name, by, args)
		err := errs[len(errs)-1]
		if err == nil {
			return true
		}
		var oe *orgdb.Error
		if !errors.As(err, &oe) || (wantCode != "" && oe.Code != wantCode) || (wantCode == "" && oe.Code != orgdb.CodeForbidden) {
			t.Errorf("%s as %s: %v (%#v); want a refusal", name, who, err, err)
			return false
		}
		if !slices.Contains(o.reasons, oe.Reason) {
			o.reasons = append(o.reasons, oe.Reason)
		}
		if dbtest.Snapshot(t, e.st.DB()) != before {
			t.Errorf("%s as %s: refused (%v) but changed the database", name, who, err)
		}
		return false
	}
	if try("nobody", store.Actor{}, orgdb.CodeUnauthorized) {
		t.Errorf("%s succeeded without an actor", name)
	}
	if try("an unknown user", store.ByUser("no-such-user"), orgdb.CodeUnauthorized) {
		t.Errorf("%s succeeded for an unknown user", name)
	}
	o.member = try("a member", store.ByUser(member.ID), "")
	o.operator = try("the operator", operator, "")
	o.admin = try("an admin", store.ByUser(e.admin.ID), "")
	return o
}

// readmeRules reads docs/operations.md's table of who may write what: for each
// write, who may, and the refusals.
func readmeRules(t *testing.T) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile("../docs/operations.md")
	must(t, err)
	_, section, ok := strings.Cut(string(b), "\n## Who may write what\n")
	if !ok {
		t.Fatal(`docs/operations.md has no section "## Who may write what"`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	rows := map[string][2]string{}
	re := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| ([^|]+) \\| ([^|]+) \\|$")
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("docs/operations.md: %s has two rows", m[1])
		}
		rows[m[1]] = [2]string{strings.TrimSpace(m[2]), strings.TrimSpace(m[3])}
	}
	if len(rows) == 0 {
		t.Fatal("docs/operations.md: the table of who may write what has no rows")
	}
	for _, r := range []string{store.ReasonNoActor, store.ReasonUnknownActor} {
		if !strings.Contains(section, "`"+r+"`") {
			t.Errorf("docs/operations.md: the section on who may write what does not name %s", r)
		}
	}
	return rows
}

// Every write of the Store has a rule, enforced: derived from the method
// set, each write is called as nobody, an unknown user, a member, the
// operator and an admin; each refusal changes nothing, and what it admits
// is one of the rules. docs/operations.md's table says the same, row for row: a
// write without a rule, or a table that drifted, fails.
func TestEveryWriteHasARule(t *testing.T) {
	t.Parallel()
	writes := writeMethods(t)
	table := readmeRules(t)
	for name := range table {
		if !slices.Contains(writes, name) {
			t.Errorf("docs/operations.md: %s is in the table of who may write what, but is not a write of the Store", name)
		}
	}
	signUpReasons := []string{access.ReasonDomain, access.ReasonAllowlist, access.ReasonInviteRequired, access.ReasonNotAllowed}
	for _, name := range writes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			row, ok := table[name]
			if !ok {
				t.Fatalf("Store.%s writes, but docs/operations.md's table of who may write what has no row for it", name)
			}
			var ran atomic.Bool
			mk := func(e *writeEnv) []any {
				f, ok := writeArgs(e, &ran)[name]
				if !ok {
					t.Fatalf("Store.%s writes, but writeArgs has no arguments for it: add them", name)
				}
				return f()
			}
			switch {
			case name == "CreateUser":
				// No actor: the sign-up policy (TestSignupPolicy).
				if takesActor(name) {
					t.Fatal("CreateUser takes an actor")
				}
				if want := "anyone the sign-up policy admits"; row[0] != want {
					t.Errorf("docs/operations.md: CreateUser: %q, want %q", row[0], want)
				}
				for _, r := range signUpReasons {
					if !strings.Contains(row[1], "`"+r+"`") {
						t.Errorf("docs/operations.md: CreateUser's refusals %q do not name %s", row[1], r)
					}
				}
			case !takesActor(name):
				t.Fatalf("Store.%s writes but names no actor (a store.Actor parameter)", name)
			case name == "Tx":
				// Tx checks the rule its caller states.
				if want := "the rule its caller states"; row[0] != want {
					t.Errorf("docs/operations.md: Tx: %q, want %q", row[0], want)
				}
				var reasons []string
				for _, r := range []store.Rule{store.AdminOnly, store.AdminOrOperator, store.OperatorOnly, store.AnyUser} {
					o := probe(t, name, func(e *writeEnv) []any { args := mk(e); args[0] = r; return args })
					if got, ok := o.rule(); !ok || got != r {
						t.Errorf("Tx with %v admits admin %v, member %v, operator %v", r, o.admin, o.member, o.operator)
					}
					reasons = append(reasons, o.reasons...)
				}
				checkReasons(t, name, row[1], reasons)
			default:
				o := probe(t, name, mk)
				r, ok := o.rule()
				if !ok {
					t.Fatalf("Store.%s admits admin %v, member %v, operator %v: that is no rule", name, o.admin, o.member, o.operator)
				}
				if row[0] != r.String() {
					t.Errorf("docs/operations.md: %s: %q, but it admits %q", name, row[0], r.String())
				}
				checkReasons(t, name, row[1], o.reasons)
			}
		})
	}
}

// checkReasons checks that docs/operations.md's refusals of a write name every
// reason it was refused with.
func checkReasons(t *testing.T, name, readme string, reasons []string) {
	t.Helper()
	for _, r := range reasons {
		if r == store.ReasonNoActor || r == store.ReasonUnknownActor {
			continue // every write's; docs/operations.md says so once, below the table
		}
		if !strings.Contains(readme, "`"+r+"`") {
			t.Errorf("docs/operations.md: %s's refusals %q do not name %s", name, readme, r)
		}
	}
}

// Tx refuses a rule that is not one of the constants (the sign-up rule is
// CreateUser's only), before fn runs.
func TestTxRefusesAnUnknownRule(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	for _, r := range []store.Rule{0, 5, 200} {
		err := st.Tx(ctx, operator, r, func(*db.Queries) error { t.Errorf("fn ran with rule %v", r); return nil })
		wantErr(t, err, orgdb.CodeValidation, "")
	}
	err := st.Tx(ctx, store.Operator(" "), store.OperatorOnly, func(*db.Queries) error { return nil })
	wantErr(t, err, orgdb.CodeValidation, "")
}

// Authorize answers for a read what a write of the rule would.
func TestAuthorize(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	admin, member := signup(t, st, "ada@acme.test"), signup(t, st, "bob@acme.test")
	for _, c := range []struct {
		by     store.Actor
		rule   store.Rule
		code   orgdb.Code
		reason string
	}{
		{store.ByUser(admin.ID), store.AdminOnly, "", ""},
		{store.ByUser(member.ID), store.AdminOnly, orgdb.CodeForbidden, store.ReasonAdminRequired},
		{store.ByUser(member.ID), store.AnyUser, "", ""},
		{operator, store.AdminOnly, orgdb.CodeForbidden, store.ReasonUserRequired},
		{operator, store.AdminOrOperator, "", ""},
		{store.ByUser(admin.ID), store.OperatorOnly, orgdb.CodeForbidden, store.ReasonOperatorRequired},
		{store.ByUser("gone"), store.AnyUser, orgdb.CodeUnauthorized, store.ReasonUnknownActor},
		{store.Actor{}, store.AnyUser, orgdb.CodeUnauthorized, store.ReasonNoActor},
		{store.ByUser(""), store.AnyUser, orgdb.CodeValidation, ""},
		{store.ByUser(admin.ID), 9, orgdb.CodeValidation, ""},
	} {
		err := st.Authorize(ctx, c.by, c.rule)
		if c.code == "" {
			if err != nil {
				t.Errorf("Authorize(%v, %v) = %v", c.by, c.rule, err)
			}
			continue
		}
		wantErr(t, err, c.code, c.reason)
	}
}

// noWait opens the database at path with a busy timeout of zero: a
// write there fails at once while another connection holds the write lock.
func noWait(t *testing.T, path string) *sql.DB {
	t.Helper()
	d, err := sql.Open("sqlite3", strings.Replace(dbfile.DSN(path), "_busy_timeout=5000", "_busy_timeout=0", 1))
	must(t, err)
	t.Cleanup(func() { must(t, d.Close()) })
	if !strings.Contains(dbfile.DSN(path), "_busy_timeout=5000") {
		t.Fatalf("the DSN has no _busy_timeout=5000 to replace: %s", dbfile.DSN(path))
	}
	return d
}

// beforeBegin is a store option that runs the function *f holds (once)
// just before the writer's connection begins a transaction: after
// anything a write does before its transaction, wherever in the store.
func beforeBegin(f *atomic.Pointer[func()]) store.Option {
	return store.WithWriterDriver(func(d driver.Driver) driver.Driver { return beginHookDriver{d, f} })
}

type beginHookDriver struct {
	driver.Driver
	f *atomic.Pointer[func()]
}

func (d beginHookDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.Driver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &beginHookConn{c.(*sqlite3.SQLiteConn), d.f}, nil
}

type beginHookConn struct {
	*sqlite3.SQLiteConn
	f *atomic.Pointer[func()]
}

func (c *beginHookConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	if f := c.f.Swap(nil); f != nil {
		(*f)()
	}
	return c.SQLiteConn.BeginTx(ctx, o)
}

// A demotion racing an admin's write, for every write an admin may do:
//
//   - committed just before the write's transaction begins (by another
//     Store on the file, as another process would), after whatever the
//     store did before BEGIN, it is seen: the write is FORBIDDEN and
//     changes nothing. A role checked anywhere before the write's
//     transaction would have let it through.
//   - tried while the write runs, once the role was read, it cannot
//     commit: the write transaction holds the write lock from the role
//     read to its commit (a connection that does not wait gets
//     SQLITE_BUSY). The write succeeds; the demotion afterwards is seen by
//     the admin's next write.
func TestDemotionRacingAWrite(t *testing.T) {
	t.Parallel()
	table := readmeRules(t)
	for _, name := range writeMethods(t) {
		if r := table[name][0]; r != store.AdminOnly.String() && r != store.AdminOrOperator.String() {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var before, authorized atomic.Pointer[func()]
			path := dbtest.Path(t)
			k := newKey(t)
			st, err := store.Open(ctx, path, store.WithSealingKey(k), beforeBegin(&before), store.WithAfterAuthorize(func() {
				if f := authorized.Swap(nil); f != nil {
					(*f)()
				}
			}))
			must(t, err)
			closeStore(t, st)
			other, err := store.Open(ctx, path, store.WithSealingKey(k)) // another process's store
			must(t, err)
			closeStore(t, other)
			// ada acts; bob, another admin, demotes her and makes the
			// arguments' rows.
			adaUser := signup(t, st, "ada@acme.test")
			e := &writeEnv{t: t, st: st, admin: adaUser, keys: []seal.Key{k}}
			bob := e.member()
			must(t, second(st.UpdateUserRole(ctx, store.ByUser(adaUser.ID), bob.ID, orgdb.RoleAdmin)))
			e.admin = bob
			var ran atomic.Bool
			mk := writeArgs(e, &ran)[name]
			ada := store.ByUser(adaUser.ID)
			setRole := func(role orgdb.UserRole) {
				t.Helper()
				must(t, second(other.UpdateUserRole(ctx, store.ByUser(bob.ID), adaUser.ID, role)))
			}
			var demoted string // the database just after a demotion by the hook
			refused := func(when string, hook func()) {
				t.Helper()
				args := mk()
				want := dbtest.Snapshot(t, st.ReadDB())
				if hook != nil {
					before.Store(&hook) // armed once the arguments' rows exist
				}
				errs := call(t, st, name, ada, args)
				wantErr(t, errs[len(errs)-1], orgdb.CodeForbidden, store.ReasonAdminRequired)
				if hook != nil {
					if demoted == "" {
						t.Fatal("the hook before the write did not run")
					}
					want = demoted
				}
				if got := dbtest.Snapshot(t, st.ReadDB()); got != want {
					t.Errorf("%s: the refused %s changed the database", when, name)
				}
			}

			// A demotion committed just before the write's transaction
			// begins, after anything the store did before it, is seen.
			refused("demoted as the write began", func() {
				setRole(orgdb.RoleMember)
				demoted = dbtest.Snapshot(t, st.ReadDB())
			})

			// A demotion tried while the write runs, after the role was
			// read, cannot commit before the write does.
			setRole(orgdb.RoleAdmin)
			raw := noWait(t, path)
			tried := func() {
				_, err := raw.ExecContext(ctx, `UPDATE users SET role = 'member' WHERE id = ?`, adaUser.ID)
				var se sqlite3.Error
				if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
					t.Errorf("a demotion while %s runs, after the role was read: %v; want SQLITE_BUSY (the write lock held)", name, err)
				}
			}
			args := mk()
			authorized.Store(&tried)
			errs := call(t, st, name, ada, args)
			must(t, errs[len(errs)-1])
			if authorized.Load() != nil {
				t.Fatal("the hook after authorize did not run")
			}
			// Demoted afterwards: the next write is refused.
			setRole(orgdb.RoleMember)
			refused("demoted after the write", nil)
		})
	}
}

// Many writes by an admin while another admin demotes them: every write
// that succeeded committed before the demotion, every one after it was
// refused. The store's clock is a counter read once per transaction,
// inside it, so the readings order the commits.
func TestRaceDemotionDuringWrites(t *testing.T) {
	t.Parallel()
	var tick atomic.Int64
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	st := dbtest.New(t, store.WithClock(func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) }))
	ada, bob := signup(t, st, "ada@acme.test"), signup(t, st, "bob@acme.test")
	must(t, second(st.UpdateUserRole(ctx, store.ByUser(ada.ID), bob.ID, orgdb.RoleAdmin)))
	var demotedAt orgdb.Time
	stamps := make([]orgdb.Time, goroutines*8)
	errs := together(goroutines*8, func(i int) error {
		if i == goroutines*4 {
			u, err := st.UpdateUserRole(ctx, store.ByUser(bob.ID), ada.ID, orgdb.RoleMember)
			demotedAt = u.UpdatedAt
			return err
		}
		name := fmt.Sprintf("Acme %d", i)
		s, err := st.UpdateOrgSettings(ctx, store.ByUser(ada.ID), store.OrgSettingsPatch{Name: &name})
		stamps[i] = s.UpdatedAt
		return err
	})
	noBusy(t, errs)
	if errs[goroutines*4] != nil {
		t.Fatalf("the demotion: %v", errs[goroutines*4])
	}
	var ok, refused int
	for i, err := range errs {
		switch {
		case i == goroutines*4:
		case err == nil:
			ok++
			if !stamps[i].Before(demotedAt.Time) {
				t.Errorf("write %d committed at %v, after the demotion at %v", i, stamps[i], demotedAt)
			}
		case errors.Is(err, store.ErrAdminRequired):
			refused++
		default:
			t.Errorf("write %d: %v", i, err)
		}
	}
	s, err := st.GetOrgSettings(ctx)
	must(t, err)
	if ok > 0 && !s.UpdatedAt.Before(demotedAt.Time) {
		t.Errorf("the settings were last written at %v, after the demotion at %v", s.UpdatedAt, demotedAt)
	}
	t.Logf("%d writes before the demotion, %d refused after it", ok, refused)
}

// Every write reads the store's clock once, inside its transaction: the
// timestamps it writes and the expiries it checks are one instant.
func TestOneClockReadingPerWrite(t *testing.T) {
	t.Parallel()
	table := readmeRules(t)
	for _, name := range writeMethods(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var readings atomic.Int64
			e, _ := policyEnv(t, store.WithClock(func() time.Time { readings.Add(1); return time.Now() }))
			var ran atomic.Bool
			args := writeArgs(e, &ran)[name]()
			by := store.ByUser(e.admin.ID)
			if table[name][0] == store.OperatorOnly.String() {
				by = operator
			}
			n := readings.Load()
			errs := call(t, e.st, name, by, args)
			must(t, errs[len(errs)-1])
			if got := readings.Load() - n; got != 1 {
				t.Errorf("%s read the clock %d times", name, got)
			}
		})
	}
}
