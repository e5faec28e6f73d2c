package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/dbtest"
)

// planAllowed lists the queries allowed to scan or sort one of the checked
// tables, each with the reason.
var planAllowed = map[string]string{
	"CountUsers":              "counts every user by design; sign-up uses HasUsers instead",
	"ListIntegrationsForUser": "sorts only the rows it matched (the user's own and the org's), found through indexes",
	"HasUsers":                "EXISTS stops at the first row of the scan",
	"HasInvites":              "EXISTS stops at the first row of the scan",
	"ListUsersJSON":           "is every user by design (GET /api/admin/users), in index order, no sort",
}

// checkedTables are the tables that grow with the organization.
var checkedTables = []string{"users", "invites", "integrations"}

var (
	nameRE  = regexp.MustCompile(`(?m)^-- name: (\w+) :\w+$`)
	sqlcArg = regexp.MustCompile(`sqlc\.n?arg\(\w+\)`)
	scanRE  = regexp.MustCompile(`^SCAN (\w+)`)
	aliasRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+(\w+)\s+AS\s+(\w+)`)
)

// queryBlocks parses queries/*.sql into name → SQL, the way sqlc reads them.
func queryBlocks(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../queries/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no query files: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		locs := nameRE.FindAllStringSubmatchIndex(src, -1)
		for i, loc := range locs {
			end := len(src)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			out[src[loc[2]:loc[3]]] = sqlcArg.ReplaceAllString(src[loc[1]:end], "?")
		}
	}
	return out
}

// TestQueryPlans runs EXPLAIN QUERY PLAN for every query in queries/ on a
// migrated database and fails on a full scan of a growing table or a sort
// of one in a temporary b-tree, unless the query is allowed above.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	blocks := queryBlocks(t)
	if len(blocks) < 30 {
		t.Fatalf("parsed only %d queries", len(blocks))
	}
	for name, query := range blocks {
		// The checked tables, and their aliases in this query (a plan names
		// a table by its alias: "SEARCH a USING ...").
		checked := slices.Clone(checkedTables)
		for _, m := range aliasRE.FindAllStringSubmatch(query, -1) {
			if slices.Contains(checkedTables, m[1]) {
				checked = append(checked, m[2])
			}
		}
		args := make([]any, strings.Count(query, "?"))
		var plan []string
		_, rows := dbtest.Rows(t, st.DB(), "EXPLAIN QUERY PLAN "+query, args...)
		for _, r := range rows {
			plan = append(plan, r[3].(string)) // id, parent, notused, detail
		}
		var bad []string
		touches := false
		for _, d := range plan {
			for _, tbl := range checked {
				if regexp.MustCompile(`\b` + tbl + `\b`).MatchString(d) {
					touches = true
				}
			}
			if m := scanRE.FindStringSubmatch(d); m != nil && slices.Contains(checked, m[1]) {
				bad = append(bad, d)
			}
			if strings.Contains(d, "USE TEMP B-TREE FOR ORDER BY") && touches {
				bad = append(bad, d)
			}
		}
		t.Logf("%s: %s", name, strings.Join(plan, " | "))
		reason, allowed := planAllowed[name]
		switch {
		case len(bad) > 0 && !allowed:
			t.Errorf("%s: %s\nplan: %s\nadd an index in a new migration, or allow it in planAllowed with a reason", name, strings.Join(bad, "; "), strings.Join(plan, " | "))
		case len(bad) == 0 && allowed:
			t.Errorf("%s is allowed (%s) but no longer needs to be: remove it from planAllowed", name, reason)
		}
	}
	for name := range planAllowed {
		if _, ok := blocks[name]; !ok {
			t.Errorf("planAllowed names %s, which is not a query", name)
		}
	}
}
