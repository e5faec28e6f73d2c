package schema_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
)

var ctx = context.Background()

// columns returns table's column names in order.
func columns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return cols
}

func objects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func versions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "  + %s\n", l)
		}
	}
	return b.String()
}

func TestMigrateEmptyDatabase(t *testing.T) {
	db := dbtest.Raw(t, dbtest.Path(t))
	done, err := schema.Migrate(ctx, db, schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	all, err := schema.Load(schema.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(all) || len(all) < 3 {
		t.Fatalf("applied %d of %d migrations", len(done), len(all))
	}

	// The migrated schema is exactly the generated snapshot schema.sql, read
	// by meaning (columns, keys, indexes, triggers), so neither a column nor
	// a table is restated here, and a stale snapshot fails.
	snapshot, err := os.ReadFile(schema.SnapshotFile)
	if err != nil {
		t.Fatal(err)
	}
	fromSnapshot := dbtest.Raw(t, dbtest.Path(t))
	if _, err := fromSnapshot.Exec(string(snapshot)); err != nil {
		t.Fatalf("%s does not load: %v", schema.SnapshotFile, err)
	}
	got, want := dbtest.Catalog(t, db), dbtest.Catalog(t, fromSnapshot)
	if len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("migrated schema differs from %s (run make generate):\n%s", schema.SnapshotFile, lineDiff(want, got))
	}
	var id, name string
	var gating, allowlist int
	if err := db.QueryRow(`SELECT id, name, domain_gating_enabled, email_allowlist_enabled FROM org_settings`).
		Scan(&id, &name, &gating, &allowlist); err != nil {
		t.Fatal(err)
	}
	if id != "default" || name != "My Organization" || gating != 0 || allowlist != 0 {
		t.Errorf("org_settings row = %q %q %d %d", id, name, gating, allowlist)
	}

	for _, pragma := range []string{"foreign_key_check", "integrity_check"} {
		rows, err := db.Query("PRAGMA " + pragma)
		if err != nil {
			t.Fatal(err)
		}
		var problems []string
		for rows.Next() {
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			problems = append(problems, fmt.Sprint(vals...))
		}
		rows.Close()
		if pragma == "integrity_check" && slices.Equal(problems, []string{"ok"}) {
			problems = nil
		}
		if len(problems) > 0 {
			t.Errorf("PRAGMA %s: %v", pragma, problems)
		}
	}

	// Migrating again is a no-op.
	before := dbtest.Snapshot(t, db)
	again, err := schema.Migrate(ctx, db, schema.FS())
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate: applied %v, err %v", again, err)
	}
	if after := dbtest.Snapshot(t, db); after != before {
		t.Errorf("second migrate changed the database:\n%s\n---\n%s", before, after)
	}
}

func TestFailingMigrationLeavesNoTrace(t *testing.T) {
	fsys := fstest.MapFS{
		"0001_base.sql": {Data: []byte("CREATE TABLE users (id TEXT PRIMARY KEY);")},
		"0002_broken.sql": {Data: []byte(`
CREATE TABLE half (id INTEGER);
ALTER TABLE users ADD COLUMN nickname TEXT;
INSERT INTO users (id) VALUES ('u1');
INSERT INTO no_such_table VALUES (1);
`)},
	}
	db := dbtest.Raw(t, dbtest.Path(t))
	done, err := schema.Migrate(ctx, db, fsys)
	if err == nil {
		t.Fatal("broken migration applied without error")
	}
	if !strings.Contains(err.Error(), "0002_broken.sql") || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("error does not name the file and the cause: %v", err)
	}
	if len(done) != 1 || done[0].Version != 1 {
		t.Errorf("applied = %v, want only 0001", done)
	}
	if got := versions(t, db); !slices.Equal(got, []int{1}) {
		t.Errorf("recorded versions = %v, want [1]", got)
	}
	if got := objects(t, db); slices.Contains(got, "table half") {
		t.Errorf("partial table left behind: %v", got)
	}
	if got := columns(t, db, "users"); !slices.Equal(got, []string{"id"}) {
		t.Errorf("partial column left behind: %v", got)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
	if n != 0 {
		t.Errorf("partial row left behind: %d users", n)
	}
}

func TestRefusedMigrationSets(t *testing.T) {
	ok := []byte("SELECT 1;")
	tests := []struct {
		name  string
		fsys  fstest.MapFS
		wants []string // substrings of the error
	}{
		{"no number", fstest.MapFS{"add_users.sql": {Data: ok}}, []string{"add_users.sql", "NNNN_name.sql"}},
		{"short number", fstest.MapFS{"1_users.sql": {Data: ok}}, []string{"1_users.sql"}},
		{"dash", fstest.MapFS{"0001-users.sql": {Data: ok}}, []string{"0001-users.sql"}},
		{"upper case", fstest.MapFS{"0001_Users.sql": {Data: ok}}, []string{"0001_Users.sql"}},
		{"renamed with space", fstest.MapFS{"0001_users.sql": {Data: ok}, "0002_add users.sql": {Data: ok}}, []string{"0002_add users.sql"}},
		{"duplicate version", fstest.MapFS{"0002_a.sql": {Data: ok}, "0002_b.sql": {Data: ok}}, []string{"0002_a.sql", "0002_b.sql", "duplicate version 2"}},
		{"same version, other width", fstest.MapFS{"0002_a.sql": {Data: ok}, "00002_b.sql": {Data: ok}}, []string{"0002_a.sql", "00002_b.sql", "duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := dbtest.Raw(t, dbtest.Path(t))
			_, err := schema.Migrate(ctx, db, tt.fsys)
			if err == nil {
				t.Fatal("migration set accepted")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if got := objects(t, db); len(got) != 0 {
				t.Errorf("a refused set changed the database: %v", got)
			}
		})
	}
}

func TestOutOfOrderMigrationRefused(t *testing.T) {
	path := dbtest.Path(t)
	db := dbtest.Raw(t, path)
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x);")},
		"0003_c.sql": {Data: []byte("CREATE TABLE c (x);")},
	}
	if _, err := schema.Migrate(ctx, db, fsys); err != nil {
		t.Fatal(err)
	}
	fsys["0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x);")}
	before := dbtest.Snapshot(t, db)
	_, err := schema.Migrate(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") || !strings.Contains(err.Error(), "lower than the highest applied version 3") {
		t.Fatalf("out-of-order migration: err = %v", err)
	}
	if after := dbtest.Snapshot(t, db); after != before {
		t.Error("refused migration changed the database")
	}
}

func TestStatus(t *testing.T) {
	db := dbtest.Raw(t, dbtest.Path(t))
	fsys := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x);")}}
	if _, err := schema.Migrate(ctx, db, fsys); err != nil {
		t.Fatal(err)
	}
	fsys["0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x);")}
	st, err := schema.StatusOf(ctx, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || !st[0].Applied || st[0].AppliedAt.IsZero() || st[0].File != "0001_a.sql" ||
		st[1].Applied || st[1].File != "0002_b.sql" || len(st[1].SHA256) != 64 {
		t.Errorf("status = %+v", st)
	}
	// An applied migration whose file is gone is still listed.
	delete(fsys, "0001_a.sql")
	st, err = schema.StatusOf(ctx, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Version != 1 || !st[0].Applied || st[0].File != "" || st[0].Name != "a" {
		t.Errorf("status with missing file = %+v", st)
	}
}

// Many processes starting at once (each runs Open) must apply each
// migration exactly once.
func TestConcurrentMigrate(t *testing.T) {
	path := dbtest.Path(t)
	const n = 8
	var wg sync.WaitGroup
	applied := make([][]schema.Migration, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sql.Open("sqlite3", dbfile.DSN(path))
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = schema.Migrate(ctx, db, schema.FS())
		}()
	}
	wg.Wait()
	total := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("runner %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	all, _ := schema.Load(schema.FS())
	if total != len(all) {
		t.Errorf("%d applications of %d migrations", total, len(all))
	}
	db := dbtest.Raw(t, path)
	if got := versions(t, db); len(got) != len(all) {
		t.Errorf("recorded %v", got)
	}
}

func TestEmbeddedFilesAreMigrations(t *testing.T) {
	names, err := fs.Glob(schema.FS(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, "0001_initial.sql") || !slices.Contains(names, "0006_organization.sql") {
		t.Errorf("embedded migrations = %v", names)
	}
}

func TestEditedMigrationRefused(t *testing.T) {
	db := dbtest.Raw(t, dbtest.Path(t))
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x);")},
		"0002_b.sql": {Data: []byte("CREATE TABLE b (x);")},
	}
	if _, err := schema.Migrate(ctx, db, fsys); err != nil {
		t.Fatal(err)
	}
	st, _ := schema.StatusOf(ctx, db, fsys)
	applied := st[0].SHA256

	// Someone edits a shipped migration and adds a new one.
	fsys["0001_a.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE a (x, y);")}
	fsys["0003_c.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE c (x);")}
	before := dbtest.Snapshot(t, db)
	_, err := schema.Migrate(ctx, db, fsys)
	if err == nil {
		t.Fatal("edited migration accepted")
	}
	st, _ = schema.StatusOf(ctx, db, fsys)
	for _, want := range []string{"0001_a.sql", "edited after it was applied", applied, st[0].SHA256, "--repair-checksums"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if dbtest.Snapshot(t, db) != before {
		t.Error("a refused run applied 0003")
	}
	if !st[0].Edited() || st[1].Edited() || st[0].RecordedSHA256 != applied {
		t.Errorf("status = %+v", st)
	}

	// The deliberate case: repair, then migrate.
	fixed, err := schema.RepairChecksums(ctx, db, fsys)
	if err != nil || len(fixed) != 1 || fixed[0].File != "0001_a.sql" {
		t.Fatalf("RepairChecksums = %+v, %v", fixed, err)
	}
	if done, err := schema.Migrate(ctx, db, fsys); err != nil || len(done) != 1 || done[0].File != "0003_c.sql" {
		t.Fatalf("after repair: %v, %v", done, err)
	}
	if st, _ := schema.StatusOf(ctx, db, fsys); st[0].Edited() {
		t.Error("still edited after repair")
	}
}

func TestRenamedAppliedMigrationRefused(t *testing.T) {
	db := dbtest.Raw(t, dbtest.Path(t))
	data := []byte("CREATE TABLE a (x);")
	if _, err := schema.Migrate(ctx, db, fstest.MapFS{"0001_a.sql": {Data: data}}); err != nil {
		t.Fatal(err)
	}
	_, err := schema.Migrate(ctx, db, fstest.MapFS{"0001_renamed.sql": {Data: data}})
	if err == nil || !strings.Contains(err.Error(), "0001_renamed.sql") || !strings.Contains(err.Error(), "0001_a.sql") {
		t.Errorf("renamed migration: %v", err)
	}
}

func TestSnapshotIsNotAMigration(t *testing.T) {
	ms, err := schema.Load(fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x);")},
		"schema.sql": {Data: []byte("CREATE TABLE a (x);")},
	})
	if err != nil || len(ms) != 1 {
		t.Errorf("Load = %v, %v", ms, err)
	}
}
