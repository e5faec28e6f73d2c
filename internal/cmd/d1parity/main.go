// Command d1parity compares the schema of a SQLite database that
// Cloudflare D1 (wrangler's local D1) built from schema/ with
// schema/schema.sql, the schema the orgdb runner builds: every table,
// index, trigger and view, by its CREATE statement with whitespace
// ignored. D1's own tables (d1_migrations, _cf_*) are left out.
// tools/ts/d1-parity.sh (make d1-parity) runs wrangler and then this.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the driver

	"github.com/agentops/orgdb/internal/catalog"
	"github.com/agentops/orgdb/internal/migratelint"
)

func main() {
	dbPath := flag.String("db", "", "the SQLite file wrangler's local D1 wrote (under .wrangler/state)")
	snapshot := flag.String("schema", "schema/schema.sql", "the schema snapshot of the orgdb runner")
	flag.Parse()
	if *dbPath == "" {
		fmt.Fprintln(os.Stderr, "d1parity: -db is required: the .sqlite file of wrangler's local D1")
		os.Exit(2)
	}
	missing, extra, err := compare(context.Background(), *dbPath, *snapshot)
	if err != nil {
		fmt.Fprintln(os.Stderr, "d1parity:", err)
		os.Exit(2)
	}
	if len(missing)+len(extra) > 0 {
		for _, s := range missing {
			fmt.Printf("only in %s: %s\n", *snapshot, s)
		}
		for _, s := range extra {
			fmt.Printf("only in D1: %s\n", s)
		}
		fmt.Fprintf(os.Stderr, "d1parity: D1 built a different schema from the migrations than the orgdb runner (%d difference(s)): "+
			"a migration behaves differently on D1; change it in a new migration so both agree\n", len(missing)+len(extra))
		os.Exit(1)
	}
}

// compare returns the statements of the snapshot that D1's database lacks
// and the objects D1's database has beyond them, normalized.
func compare(ctx context.Context, dbPath, snapshot string) (missing, extra []string, err error) {
	b, err := os.ReadFile(snapshot)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: run make generate", err)
	}
	stmts, _ := migratelint.Split(string(b))
	var want []string
	for _, s := range stmts {
		want = append(want, strings.TrimSuffix(strings.TrimSpace(s.SQL), ";"))
	}
	if _, err := os.Stat(dbPath); err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT sql FROM sqlite_master
WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND tbl_name NOT IN ('d1_migrations', 'schema_migrations')
  AND name NOT LIKE '\_cf\_%' ESCAPE '\' AND tbl_name NOT LIKE '\_cf\_%' ESCAPE '\'`)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dbPath, err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, nil, err
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(got) == 0 {
		return nil, nil, fmt.Errorf("%s holds no schema: is it the D1 database file?", dbPath)
	}
	return diff(want, got), diff(got, want), nil
}

// diff returns the statements of a that b lacks, comparing them with all
// whitespace outside quotes removed and showing them normalized.
func diff(a, b []string) []string {
	var keys []string
	for _, s := range b {
		keys = append(keys, compact(s))
	}
	var out []string
	for _, s := range a {
		if i := slices.Index(keys, compact(s)); i >= 0 {
			keys = slices.Delete(keys, i, i+1)
			continue
		}
		out = append(out, catalog.Normalize(s))
	}
	return out
}

// compact removes whitespace outside string literals and quoted names.
func compact(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
