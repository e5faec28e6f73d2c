package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
	"github.com/agentops/orgdb/store"
)

// litestreamTables are the tables Litestream v0.5 creates in a database
// it replicates, as it creates them.
const litestreamTables = `CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER);
INSERT INTO _litestream_seq VALUES (1, 42);`

// Litestream's tables are not orgdb's schema: a file Litestream touched
// first is still a new orgdb database, and every reader of the catalog
// leaves them out, so the schema reads as a fresh database's.
func TestLitestreamTablesIgnored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.Path(t)
	raw := dbtest.Raw(t, path)
	if _, err := raw.Exec(litestreamTables); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatalf("open a file holding only Litestream's tables: %v", err)
	}
	defer st.Close()
	fresh := dbtest.New(t)
	if got, want := dbtest.Catalog(t, st.DB()), dbtest.Catalog(t, fresh.DB()); !slices.Equal(got, want) {
		t.Errorf("dbtest.Catalog with Litestream's tables:\n%q\nwant a fresh database's:\n%q", got, want)
	}
	if got := dbtest.Snapshot(t, st.DB()); strings.Contains(got, "_litestream") {
		t.Errorf("dbtest.Snapshot holds Litestream's tables:\n%s", got)
	}
	got, err := catalog.Read(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	want, err := catalog.Read(ctx, fresh.DB())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Objects) != len(want.Objects) || len(got.Tables) != len(want.Tables) {
		t.Errorf("catalog.Read: %d objects, %d tables; a fresh database has %d, %d", len(got.Objects), len(got.Tables), len(want.Objects), len(want.Tables))
	}
	if err := schema.Verify(ctx, st.ReadDB(), schema.FS()); err != nil {
		t.Errorf("schema.Verify: %v", err)
	}
	if n := count(t, path, `SELECT COUNT(*) FROM _litestream_seq`); n != 1 {
		t.Errorf("orgdb changed Litestream's table: %d rows", n)
	}
}
